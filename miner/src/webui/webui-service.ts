import type { ServiceContext, ServiceParts } from '@switchyard/infra';
import { z } from '@switchyard/infra';
import { consulConnection, createConsulClient } from '@switchyard/infra/discovery';
import { BalancingMonitor } from './balancing/monitor.js';
import { minerKeys, minerNamingShape } from '../shared/names.js';
import { webuiRoutes } from './routes.js';
import { CounterSampler, readCounters } from './sampler.js';

export const webuiConfigShape = {
  ...minerNamingShape,
  /** The sliding window hashes/s and the shares are computed over. */
  WEBUI_RATE_WINDOW_SECONDS: z.coerce.number().min(2).max(600).default(10),
  WEBUI_SAMPLE_INTERVAL_MS: z.coerce.number().int().min(100).max(60_000).default(1_000),
  /** The balancing page: how often every instance's /metrics/upstreams is read. */
  WEBUI_BALANCING_INTERVAL_MS: z.coerce.number().int().min(200).max(60_000).default(1_000),
  /** The balancing page: the window its rates and latencies are measured over. */
  WEBUI_BALANCING_WINDOW_SECONDS: z.coerce.number().min(2).max(600).default(5),
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
  const balancing = new BalancingMonitor({
    consul: createConsulClient(consulConnection(config)),
    suffix: config.SERVICE_NAME_SUFFIX,
    logger: ctx.logger,
    intervalMs: config.WEBUI_BALANCING_INTERVAL_MS,
    windowMs: config.WEBUI_BALANCING_WINDOW_SECONDS * 1000,
    waitSeconds: config.DISCOVERY_WAIT_SECONDS,
  });
  return {
    routes: webuiRoutes({ redis, keys, sampler, watchers, balancing }),
    onStarted: () => {
      sampler.start();
      balancing.start();
    },
    onShutdown: async () => {
      sampler.stop();
      await balancing.stop();
    },
  };
}
