import { runService, z } from '@switchyard/infra';
import { hasherRoutes } from './routes.js';

await runService({
  name: 'hasher',
  config: {
    /** Simulated work per hash; requests overlap, so this is latency, not a throughput cap. */
    HASHER_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(100),
  },
  setup: (ctx) => ({
    routes: hasherRoutes({ delayMs: ctx.config.HASHER_DELAY_MS, serviceId: ctx.serviceId }),
  }),
});
