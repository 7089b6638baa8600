import { runService, z } from '@switchyard/infra';
import { minerNamingShape, serviceName } from '../shared/names.js';
import { rngRoutes } from './routes.js';

await runService({
  name: serviceName('rng'),
  config: {
    ...minerNamingShape,
    /** Time to produce one answer; one instance serves about 1000 / RNG_DELAY_MS requests/s. */
    RNG_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(100),
    /** Requests allowed to wait behind the running one before the instance answers 503. */
    RNG_QUEUE_LIMIT: z.coerce.number().int().min(1).default(1_000),
  },
  setup: (ctx) => ({
    routes: rngRoutes({ delayMs: ctx.config.RNG_DELAY_MS, queueLimit: ctx.config.RNG_QUEUE_LIMIT, serviceId: ctx.serviceId }),
  }),
});
