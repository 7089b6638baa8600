import type { ServiceContext, ServiceParts } from '@switchyard/infra';
import { z } from '@switchyard/infra';
import { minerKeys, minerNamingShape } from '../shared/names.js';
import { webuiRoutes } from './routes.js';
import { CounterSampler, readCounters } from './sampler.js';

export const webuiConfigShape = {
  ...minerNamingShape,
  /** The sliding window hashes/s and the shares are computed over. */
  WEBUI_RATE_WINDOW_SECONDS: z.coerce.number().min(2).max(600).default(10),
  WEBUI_SAMPLE_INTERVAL_MS: z.coerce.number().int().min(100).max(60_000).default(1_000),
};

type WebuiContext = ServiceContext<z.infer<z.ZodObject<typeof webuiConfigShape>>>;

export function setupWebui(ctx: WebuiContext): ServiceParts {
  const { config } = ctx;
  const redis = ctx.redis();
  const keys = minerKeys(config.MINER_REDIS_PREFIX);
  const sampler = new CounterSampler(
    () => readCounters(redis, keys),
    ctx.logger,
    config.WEBUI_SAMPLE_INTERVAL_MS,
    config.WEBUI_RATE_WINDOW_SECONDS * 1000,
  );
  const watchers = {
    rng: ctx.watch('rng'),
    hasher: ctx.watch('hasher'),
    worker: ctx.watch('worker'),
  };
  return {
    routes: webuiRoutes({ redis, keys, sampler, watchers }),
    onStarted: () => sampler.start(),
    onShutdown: () => sampler.stop(),
  };
}
