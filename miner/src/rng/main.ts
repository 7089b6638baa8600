import { runService, z } from '@switchyard/infra';
import { defaultQueueLimit } from './queue-limit.js';
import { rngRoutes } from './routes.js';

await runService({
  name: 'rng',
  config: {
    /** Time to produce one answer; one instance serves about 1000 / RNG_DELAY_MS requests/s. */
    RNG_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(100),
    /**
     * Requests allowed to wait behind the running one before the instance answers 503
     * rng_overloaded. Default: about 5 s of queue at RNG_DELAY_MS, the callers' timeout (queue-limit.ts).
     */
    RNG_QUEUE_LIMIT: z.coerce.number().int().min(1).optional(),
  },
  setup: ({ config, serviceId }) => ({
    routes: rngRoutes({
      delayMs: config.RNG_DELAY_MS,
      queueLimit: config.RNG_QUEUE_LIMIT ?? defaultQueueLimit(config.RNG_DELAY_MS),
      serviceId,
    }),
  }),
});
