import { createRedis } from '@switchyard/infra';
import { passingIds } from '../../test/support/consul.js';
import { startProcess, stopAllProcesses, type ServiceProcess } from '../../test/support/processes.js';
import { uniqueName, waitFor } from '../../test/support/wait.js';
import { minerKeys, type MinerService } from '../src/shared/names.js';

const ENTRY: Record<MinerService, string> = {
  rng: 'miner/src/rng/main.ts',
  hasher: 'miner/src/hasher/main.ts',
  worker: 'miner/src/worker/main.ts',
  webui: 'miner/src/webui/main.ts',
};

export interface RunningMinerService {
  process: ServiceProcess;
  serviceId: string;
  port: number;
  url: string;
}

export interface Counters {
  hashes: number;
  coins: number;
  fallback: number;
  byRng: Record<string, number>;
}

/**
 * One isolated miner: its own Consul service names (SERVICE_NAME_SUFFIX: infra appends it to the
 * names instances register under and discover) and Redis keys (MINER_REDIS_PREFIX), so concurrent
 * runs by other engineers neither route to these instances nor add to these counters. Delays are
 * short so the tests run in seconds.
 */
export class MinerCluster {
  readonly suffix = `-${uniqueName('t')}`;
  readonly prefix = `test:${uniqueName('miner')}:`;
  readonly keys = minerKeys(this.prefix);
  readonly redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');

  constructor(private readonly baseEnv: Record<string, string> = {}) {}

  name(service: MinerService): string {
    return `${service}${this.suffix}`;
  }

  async start(service: MinerService, env: Record<string, string> = {}): Promise<RunningMinerService> {
    const process = startProcess(ENTRY[service], {
      SERVICE_NAME_SUFFIX: this.suffix,
      MINER_REDIS_PREFIX: this.prefix,
      RNG_DELAY_MS: '50',
      HASHER_DELAY_MS: '5',
      WORKER_FALLBACK_DELAY_MS: '20',
      ...this.baseEnv,
      ...env,
    });
    const { serviceId, port } = await process.listening();
    return { process, serviceId, port, url: `http://127.0.0.1:${port}` };
  }

  /** Starts `service` and waits until Consul lists the instance as passing. */
  async startRegistered(service: MinerService, env: Record<string, string> = {}): Promise<RunningMinerService> {
    const running = await this.start(service, env);
    await this.waitPassing(service, (ids) => ids.includes(running.serviceId));
    return running;
  }

  waitPassing(service: MinerService, condition: (ids: string[]) => boolean): Promise<string[]> {
    return waitFor(`passing ${this.name(service)} instances`, async () => {
      const ids = await passingIds(this.name(service));
      return condition(ids) && ids;
    });
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
    return waitFor(`hashes from ${ids.join(', ')} in redis`, async () => {
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
    return waitFor('the worker to flush its counts to redis', async () => {
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

  /**
   * The value of Prometheus sample `name` on a service's /metrics, summed over the series whose
   * labels include `labels` (0 when there is none yet).
   */
  async metric(service: RunningMinerService, name: string, labels: Record<string, string> = {}): Promise<number> {
    const text = await (await fetch(`${service.url}/metrics`)).text();
    let sum = 0;
    for (const line of text.split('\n')) {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match || match[1] !== name) continue;
      const series = match[2] ?? '';
      if (Object.entries(labels).every(([key, value]) => series.includes(`${key}="${value}"`))) sum += Number(match[3]);
    }
    return sum;
  }

  /** Kills this test's processes and deletes its Redis keys. */
  async close(): Promise<void> {
    await stopAllProcesses();
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', 500);
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
