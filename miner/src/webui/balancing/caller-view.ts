import { z } from '@switchyard/infra';

/**
 * What a caller's `GET /metrics/upstreams` answers (infra/src/server/upstreams-view.ts), as far
 * as the balancing page reads it. Parsed, not trusted: a caller of another version or a broken
 * one is skipped with a reason, it never breaks the page.
 */
const count = z.number().finite().nonnegative();

const instanceSchema = z.object({
  id: z.string(),
  passing: z.boolean(),
  breaker: z.enum(['closed', 'half-open', 'open']),
  inFlight: count,
  outcomes: z.record(z.string(), count),
  latency: z.object({ buckets: z.array(count), count, sumSeconds: count }),
});

export const callerViewSchema = z.object({
  caller: z.string(),
  startedAt: z.number(),
  now: z.number(),
  // null: the caller serves no live endpoint.
  liveSockets: count.nullable().catch(null),
  latencyBucketsSeconds: z.array(z.number()),
  upstreams: z.array(
    z.object({
      service: z.string(),
      passing: z.array(z.string()),
      instances: z.array(instanceSchema),
    }),
  ),
  events: z.array(
    z.object({
      seq: z.number(),
      at: z.number(),
      kind: z.enum(['joined', 'left', 'ejected', 'back']),
      service: z.string(),
      instance: z.string(),
    }),
  ),
});

export type CallerView = z.infer<typeof callerViewSchema>;
export type CallerInstance = z.infer<typeof instanceSchema>;
