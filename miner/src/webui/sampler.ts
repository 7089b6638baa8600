import type { Logger } from '@switchyard/infra';
import type { MinerKeys } from '../shared/names.js';
import type { RedisConnection } from '../shared/redis.js';
import { SampleWindow, type Sample } from './stats.js';

/** Reads the counters dockercoins-style: coins = HLEN wallet, hashes = GET hashes (plus ours). */
export async function readCounters(redis: RedisConnection, keys: MinerKeys): Promise<Sample> {
  const [coins, hashes, fallback, byRng] = await Promise.all([
    redis.hlen(keys.wallet),
    redis.get(keys.hashes),
    redis.get(keys.fallback),
    redis.hgetall(keys.rngServed),
  ]);
  return {
    at: Date.now(),
    coins,
    hashes: Number(hashes ?? 0),
    fallback: Number(fallback ?? 0),
    byRng: Object.fromEntries(Object.entries(byRng).map(([id, count]) => [id, Number(count)])),
  };
}

/**
 * Samples the counters every `intervalMs` into a SampleWindow, independently of page views, so
 * the rate is the same for every viewer and the chart has history when a page opens.
 */
export class CounterSampler {
  readonly window: SampleWindow;
  private timer: NodeJS.Timeout | undefined;
  private failing = false;
  private reading = false;

  constructor(
    /** One reading of the counters (readCounters on the webui's Redis). */
    private readonly read: () => Promise<Sample>,
    private readonly logger: Logger,
    private readonly intervalMs = 1_000,
    windowMs = 10_000,
  ) {
    this.window = new SampleWindow(windowMs);
  }

  start(): void {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Takes one sample now (the timer calls it every interval); resolves when it is done. */
  async sample(): Promise<void> {
    // While Redis is slow, a read can outlast the interval: skip the tick rather than stack
    // reads up on a struggling Redis (the window still measures rates over real timestamps).
    if (this.reading) return;
    this.reading = true;
    try {
      this.window.add(await this.read());
      if (this.failing) this.logger.info('reading counters from redis again');
      this.failing = false;
    } catch (error) {
      // The page keeps the last numbers; the ready probe already reports Redis as failing.
      if (!this.failing) this.logger.warn({ err: (error as Error).message }, 'cannot read counters from redis');
      this.failing = true;
    } finally {
      this.reading = false;
    }
  }
}
