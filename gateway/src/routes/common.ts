import { z } from '@switchyard/infra';
import type { UpstreamTimeouts } from '../route-table.js';

/**
 * Pieces the per-service route files share: time budgets by kind of work, and the list shape
 * every paged answer has (`{items, nextCursor}`, nextCursor null at the end).
 */
export const TIMEOUTS = {
  /** An indexed read or a short write: anything slower is an unhealthy instance. */
  quick: { attemptTimeoutMs: 2_000, deadlineMs: 4_000 },
  /**
   * A password hash (sign-up, sign-in) costs tens of milliseconds of CPU by design and queues
   * behind others on a busy instance: give it room before calling the instance slow.
   */
  passwordHash: { attemptTimeoutMs: 5_000, deadlineMs: 8_000 },
} as const satisfies Record<string, UpstreamTimeouts>;

/** A list answer: one page of `item`, and the cursor of the next page (null on the last one). */
export const pageOf = <Item extends z.ZodType>(item: Item) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

/** Routes without path parameters. */
export const noParams = z.object({});
