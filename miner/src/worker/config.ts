import { z, type ServiceContext } from '@switchyard/infra';
import { minerNamingShape } from '../shared/names.js';

export const workerConfigShape = {
  ...minerNamingShape,
  /**
   * Iterations in flight, or "auto": 4 per passing rng instance (at least 4), following Consul.
   * To keep N rng instances busy the worker needs more requests in flight than they serve per
   * loop turn (Little's law): N × 10 req/s × (100 ms rng + 100 ms hasher) = 2N merely to keep up,
   * and round robin does not balance queues perfectly, so 4N lets them saturate. A fixed number
   * caps the rate once N outgrows it (16 lanes: about 8 instances); more lanes per instance only
   * lengthen rng queues (4 per instance ≈ 0.3 s of queueing, well within the 5 s rng timeout).
   */
  WORKER_CONCURRENCY: z
    .union([z.literal('auto'), z.coerce.number().int().min(1).max(1_000)])
    .default('auto'),
  /** A hash whose hex starts with this is a coin ("0": 1 in 16). */
  COIN_PREFIX: z.string().regex(/^[0-9a-fA-F]{1,64}$/, 'hex digits only').default('0'),
  /** Random bytes hashed per iteration (dockercoins: 32). */
  RNG_BYTES: z.coerce.number().int().min(1).max(1_024).default(32),
  /** How often counts go to Redis (dockercoins: about once a second). */
  WORKER_FLUSH_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
  /**
   * One rng attempt, queueing included: a busy rng queues requests, so this is generous. rng's
   * default queue limit holds about this long of waiting requests (rng/queue-limit.ts).
   */
  WORKER_RNG_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(5_000),
  /** Delay of the local generator used while Consul lists no passing rng (like one rng instance). */
  WORKER_FALLBACK_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(100),
};

export type WorkerContext = ServiceContext<z.infer<z.ZodObject<typeof workerConfigShape>>>;
