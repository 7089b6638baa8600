/** The worker's Redis batch write against a real Redis: dockercoins' keys, applied at most once per seq. */
import { createRedis } from '@switchyard/infra';
import { afterAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../../test/support/wait.js';
import { minerKeys } from '../src/shared/names.js';
import { redisBatchWriter } from '../src/worker/count-store.js';
import type { CountBatch } from '../src/worker/counters.js';

describe('redisBatchWriter (real Redis)', () => {
  const redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const prefix = `test:${uniqueName('count-store')}:`;
  const keys = minerKeys(prefix);

  afterAll(async () => {
    const stored = await redis.keys(`${prefix}*`);
    if (stored.length > 0) await redis.del(...stored);
    await redis.quit();
  });

  const batch = (seq: number, extra: Partial<CountBatch> = {}): CountBatch => ({
    seq,
    hashes: 3,
    fallback: 1,
    byRng: { 'rng-a': 1, 'rng-b': 1 },
    coins: {},
    ...extra,
  });

  it('writes counters, per-instance counts and coins; a repeated seq is applied once', async () => {
    const write = redisBatchWriter(redis, keys, () => 'run-1');
    await write(batch(1, { coins: { ['0'.repeat(64)]: 'ab', ['0f' + '1'.repeat(62)]: 'cd' } }));
    await write(batch(1)); // the retry of a batch whose reply was lost
    await write(batch(2, { hashes: 2, fallback: 0, byRng: { 'rng-b': 2 } }));

    expect(await redis.get(keys.hashes)).toBe('5');
    expect(await redis.get(keys.fallback)).toBe('1');
    expect(await redis.hgetall(keys.rngServed)).toEqual({ 'rng-a': '1', 'rng-b': '3' });
    expect(await redis.hlen(keys.wallet)).toBe(2);
    expect(await redis.hget(keys.wallet, '0'.repeat(64))).toBe('ab');
    expect(Number(await redis.ttl(keys.flushedBatch('run-1')))).toBeGreaterThan(0);

    // Another worker run has its own sequence: its seq 1 is not a duplicate.
    await redisBatchWriter(redis, keys, () => 'run-2')(batch(1, { hashes: 1, fallback: 1, byRng: {} }));
    expect(await redis.get(keys.hashes)).toBe('6');
  });

  it('uses the dockercoins key names without a prefix', () => {
    expect(minerKeys()).toMatchObject({ wallet: 'wallet', hashes: 'hashes' });
  });
});
