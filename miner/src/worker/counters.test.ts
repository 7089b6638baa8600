import { describe, expect, it } from 'vitest';
import { MiningCounters, type CountBatch, type MinedHash } from './counters.js';

const fromRng = (instanceId: string, coin?: MinedHash['coin']): MinedHash => ({ source: { kind: 'rng', instanceId }, coin });
const fromFallback: MinedHash = { source: { kind: 'fallback' } };

/** A store that applies each seq at most once, like the Redis script, and can be made to fail. */
function store() {
  const applied: CountBatch[] = [];
  const seen = new Set<number>();
  let failNext = 0;
  return {
    applied,
    failNextWrites(n: number) {
      failNext = n;
    },
    write: async (batch: CountBatch) => {
      if (failNext > 0) {
        failNext -= 1;
        throw new Error('redis is down');
      }
      if (!seen.has(batch.seq)) applied.push(structuredClone(batch));
      seen.add(batch.seq);
    },
    total: () => applied.reduce((sum, b) => sum + b.hashes, 0),
  };
}

describe('MiningCounters', () => {
  it('writes what was recorded as one batch and then starts from zero', async () => {
    const redis = store();
    const counters = new MiningCounters(redis.write);
    counters.record(fromRng('rng-a'));
    counters.record(fromRng('rng-b', { hash: '0abc', bytes: 'ff' }));
    counters.record(fromFallback);

    expect(await counters.flush()).toBe(true);
    expect(redis.applied).toEqual([
      { seq: 1, hashes: 3, fallback: 1, byRng: { 'rng-a': 1, 'rng-b': 1 }, coins: { '0abc': 'ff' } },
    ]);
    expect(counters.unflushedHashes).toBe(0);

    expect(await counters.flush()).toBe(true);
    expect(redis.applied).toHaveLength(1); // nothing new: no empty write
  });

  it('tells hashes recorded while it wrote apart from a failed write: left for the next flush, no failure', async () => {
    const redis = store();
    // Mining goes on while each batch is written: one more hash arrives during every write.
    const counters: MiningCounters = new MiningCounters(async (batch) => {
      counters.record(fromRng('rng-a'));
      await redis.write(batch);
    });
    counters.record(fromRng('rng-a'));

    // Two writes (the first batch, then the hash recorded during it); the third hash waits.
    expect(await counters.flush()).toBe(false);
    expect(counters.writeFailing).toBe(false);
    expect(redis.total()).toBe(2);
    expect(counters.unflushedHashes).toBe(1);
  });

  it('keeps the counts after a failed write and writes them on the next flush', async () => {
    const redis = store();
    const counters = new MiningCounters(redis.write);
    counters.record(fromRng('rng-a'));
    counters.record(fromRng('rng-a'));
    redis.failNextWrites(1);

    expect(await counters.flush()).toBe(false);
    expect(counters.writeFailing).toBe(true);
    expect(counters.unflushedHashes).toBe(2);
    expect(counters.flushed.hashes).toBe(0);

    counters.record(fromRng('rng-b')); // mining goes on while Redis is down
    expect(await counters.flush()).toBe(true);
    expect(counters.writeFailing).toBe(false);
    expect(redis.total()).toBe(3);
    expect(counters.flushed).toEqual({ hashes: 3, coins: 0, fallback: 0, byRng: { 'rng-a': 2, 'rng-b': 1 } });
    // The failed batch is retried unchanged (same seq), the newer counts follow in their own.
    expect(redis.applied.map((b) => [b.seq, b.hashes])).toEqual([
      [1, 2],
      [2, 1],
    ]);
  });

  it('keeps failing batches through several outages without losing or doubling a count', async () => {
    const redis = store();
    const counters = new MiningCounters(redis.write);
    let recorded = 0;
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 7; i++) {
        counters.record(i % 3 === 0 ? fromFallback : fromRng(`rng-${i % 2}`));
        recorded += 1;
      }
      if (round % 3 === 0) redis.failNextWrites(1);
      await counters.flush();
    }
    await counters.flush();
    expect(redis.total()).toBe(recorded);
    expect(counters.produced).toEqual(counters.flushed);
  });

  it('does not count twice a batch whose write landed but was reported as failed', async () => {
    const applied = new Map<number, number>();
    let loseReply = true;
    const counters = new MiningCounters(async (batch) => {
      applied.set(batch.seq, batch.hashes); // the store dedupes by seq
      if (loseReply) {
        loseReply = false;
        throw new Error('connection reset after EXEC');
      }
    });
    counters.record(fromRng('rng-a'));
    expect(await counters.flush()).toBe(false);
    expect(await counters.flush()).toBe(true);
    expect([...applied.values()].reduce((a, b) => a + b, 0)).toBe(1);
  });

  it('shares one write between concurrent flushes', async () => {
    let writes = 0;
    let release!: () => void;
    const counters = new MiningCounters(async () => {
      writes += 1;
      await new Promise<void>((resolve) => (release = resolve));
    });
    counters.record(fromRng('rng-a'));
    const first = counters.flush();
    const second = counters.flush();
    await Promise.resolve();
    release();
    expect(await Promise.all([first, second])).toEqual([true, true]);
    expect(writes).toBe(1);
  });

  it('refuses hashes after close, so produced equals what the final flush writes', async () => {
    const redis = store();
    const counters = new MiningCounters(redis.write);
    expect(counters.record(fromRng('rng-a'))).toBe(true);
    counters.close();
    expect(counters.record(fromRng('rng-a'))).toBe(false);
    expect(await counters.flush()).toBe(true);
    expect(counters.produced.hashes).toBe(1);
    expect(redis.total()).toBe(1);
  });
});
