import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpError, express, type Router, type Instancer } from '@switchyard/infra';
import type { MinerKeys } from '../shared/names.js';
import type { RedisConnection } from '../shared/redis.js';
import type { BalancingMonitor } from './balancing/monitor.js';
import { readCounters, type CounterSampler } from './sampler.js';

const PUBLIC_DIR = fileURLToPath(new URL('../../public/', import.meta.url));
// uPlot is served from the installed package, not a CDN: the page works offline.
const UPLOT_DIST = join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');

export interface WebuiOptions {
  redis: RedisConnection;
  keys: MinerKeys;
  sampler: CounterSampler;
  watchers: { rng: Instancer; hasher: Instancer; worker: Instancer };
  balancing: BalancingMonitor;
}

export function webuiRoutes(options: WebuiOptions) {
  const { redis, keys, sampler, watchers, balancing } = options;

  return (router: Router) => {
    // dockercoins' own endpoint, same shape: a dockercoins page can poll it unchanged.
    router.get('/json', async (_req, res) => {
      const counters = await readCounters(redis, keys).catch((error: Error) => {
        throw new HttpError(503, 'redis_unavailable', `cannot read the counters: ${error.message}`);
      });
      res.json({ coins: counters.coins, hashes: counters.hashes, now: counters.at / 1000 });
    });

    router.get('/api/stats', (_req, res) => {
      const latest = sampler.window.latest();
      const window = sampler.window.stats();
      const passingRng = watchers.rng.instances().map((i) => i.id).sort();
      res.json({
        now: Date.now() / 1000,
        sampledAt: latest ? latest.at / 1000 : null,
        windowSeconds: window.spanSeconds,
        hashesPerSecond: window.hashesPerSecond,
        hashes: latest?.hashes ?? 0,
        coins: latest?.coins ?? 0,
        fallback: { total: latest?.fallback ?? 0, share: window.fallbackShare },
        rng: { passing: passingRng, shares: window.rngShares, served: latest?.byRng ?? {} },
        healthy: {
          rng: passingRng.length,
          hasher: watchers.hasher.instances().length,
          worker: watchers.worker.instances().length,
        },
      });
    });

    router.get('/api/history', (_req, res) => {
      res.json({ points: sampler.window.history() });
    });

    // The balancing page: every service's instances and the traffic each takes (balancing/).
    router.get('/api/balancing', (_req, res) => {
      res.json(balancing.snapshot());
    });

    router.get('/api/balancing/history', (_req, res) => {
      res.json({ points: balancing.history.list() });
    });

    router.get('/balancing', (_req, res) => {
      res.sendFile(join(PUBLIC_DIR, 'balancing.html'));
    });

    router.use('/vendor/uplot', express.static(UPLOT_DIST, { index: false }));
    router.use(express.static(PUBLIC_DIR));
  };
}
