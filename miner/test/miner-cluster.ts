import { createRedis } from '@switchyard/infra';
import { IsolatedStack, type Running } from '../../test/support/isolated-stack.js';
import { scrapeMetric } from '../../test/support/metrics.js';
import { minerKeys, type MinerService } from '../src/shared/names.js';

const ENTRY: Record<MinerService, string> = {
  rng: 'miner/src/rng/main.ts',
  hasher: 'miner/src/hasher/main.ts',
  worker: 'miner/src/worker/main.ts',
  webui: 'miner/src/webui/main.ts',
};

export interface Counters {
  hashes: number;
  coins: number;
  fallback: number;
  byRng: Record<string, number>;
}

/**
 * One isolated miner (see IsolatedStack: its own Consul names and Redis keys), with its counters
 * as Redis holds them. Delays are short so the tests run in seconds.
 */
export class MinerCluster extends IsolatedStack<MinerService> {
  readonly keys = minerKeys(this.redisPrefix);
  readonly redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');

  constructor(env: Record<string, string> = {}) {
    super(ENTRY, { RNG_DELAY_MS: '50', HASHER_DELAY_MS: '5', WORKER_FALLBACK_DELAY_MS: '20', ...env });
  }

  async counters(): Promise<Counters> {
    const [hashes, coins, fallback, byRng] = await Promise.all([
      this.redis.get(this.keys.hashes),
      this.redis.hlen(this.keys.wallet),
      this.redis.get(this.keys.fallback),
      this.redis.hgetall(this.keys.rngServed),
    ]);
    return {
      hashes: Number(hashes ?? 0),
      coins,
      fallback: Number(fallback ?? 0),
      byRng: Object.fromEntries(Object.entries(byRng).map(([id, n]) => [id, Number(n)])),
    };
  }

  /** Waits until every rng instance in `ids` has served hashes that reached Redis. */
  waitServedBy(ids: string[], atLeast = 1): Promise<Counters> {
    return this.waitFor(`hashes from ${ids.join(', ')} in redis`, async () => {
      const counters = await this.counters();
      return ids.every((id) => (counters.byRng[id] ?? 0) >= atLeast) && counters;
    }, { timeoutMs: 30_000 });
  }

  /**
   * Hashes per second as Redis sees them. The worker flushes about once a second, so the window
   * runs from one flush to the first flush after `windowMs` (both seen by polling `hashes`):
   * flush-aligned, the 1 s granularity does not distort the rate.
   */
  async measureRate(windowMs: number): Promise<number> {
    const start = await this.nextFlush();
    const end = await this.nextFlush(start.at + windowMs);
    return (end.hashes - start.hashes) / ((end.at - start.at) / 1000);
  }

  /** The first change of `hashes` seen after `notBefore` (ms since epoch). */
  private async nextFlush(notBefore = 0): Promise<{ hashes: number; at: number }> {
    let seen = Number((await this.redis.get(this.keys.hashes)) ?? 0);
    return this.waitFor('the worker to flush its counts to redis', async () => {
      const hashes = Number((await this.redis.get(this.keys.hashes)) ?? 0);
      const at = Date.now();
      if (hashes === seen) return undefined;
      seen = hashes;
      return at >= notBefore && { hashes, at };
    }, { timeoutMs: Math.max(0, notBefore - Date.now()) + 15_000, intervalMs: 20 });
  }

  async getJson<T>(url: string): Promise<T> {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url} answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as T;
  }

  /** The sum of Prometheus sample `name` on a service's /metrics (see scrapeMetric). */
  metric(service: Running, name: string, labels: Record<string, string> = {}): Promise<number> {
    return scrapeMetric(`${service.url}/metrics`, name, labels);
  }

  /** Stops this cluster's processes, then deletes its Redis keys. */
  async close(): Promise<void> {
    await this.stopAll();
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.redisPrefix}*`, 'COUNT', 500);
      if (keys.length > 0) await this.redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    await this.redis.quit();
  }
}

/** The totals a worker logs once its loop stopped and its final flush ran. */
export interface FinalTotals {
  produced: Counters;
  flushed: Counters;
  ok: boolean;
}

export function finalTotals(output: string): FinalTotals | undefined {
  for (const line of output.split('\n')) {
    if (!line.includes('"mining stopped')) continue;
    const parsed = JSON.parse(line) as { produced: Counters; flushed: Counters; msg: string };
    return { produced: parsed.produced, flushed: parsed.flushed, ok: parsed.msg.includes('every count written') };
  }
  return undefined;
}
