import type { RedisConnection } from '../shared/redis.js';
import type { MinerKeys } from '../shared/names.js';
import type { BatchWriter, CountBatch } from './counters.js';

/**
 * Applies one batch atomically, at most once per (run, seq): if a previous attempt of the same
 * batch already landed (its reply was lost, and ioredis may even resend it on reconnect), the
 * script sees seq <= the run's last applied seq and does nothing.
 *
 * KEYS: flushed-seq, hashes, fallback, rng:served, wallet
 * ARGV: seq, hashes, fallback, seq ttl (s), n, n × (rng instance id, count), then (coin hash, bytes hex) pairs
 */
const APPLY_BATCH = `
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local seq = tonumber(ARGV[1])
if seq <= last then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[4])
if tonumber(ARGV[2]) > 0 then redis.call('INCRBY', KEYS[2], ARGV[2]) end
if tonumber(ARGV[3]) > 0 then redis.call('INCRBY', KEYS[3], ARGV[3]) end
local i = 6
for _ = 1, tonumber(ARGV[5]) do
  redis.call('HINCRBY', KEYS[4], ARGV[i], ARGV[i + 1])
  i = i + 2
end
while i < #ARGV do
  redis.call('HSET', KEYS[5], ARGV[i], ARGV[i + 1])
  i = i + 2
end
return 1
`;

/** Long enough to cover any retry of a batch; refreshed by every write of the run. */
const SEQ_TTL_SECONDS = 24 * 3600;

/** A BatchWriter that writes into dockercoins' keys (plus rng:served and fallback). */
export function redisBatchWriter(redis: RedisConnection, keys: MinerKeys, runId: () => string): BatchWriter {
  return async (batch: CountBatch) => {
    const rng = Object.entries(batch.byRng);
    const args: Array<string | number> = [batch.seq, batch.hashes, batch.fallback, SEQ_TTL_SECONDS, rng.length];
    for (const [id, count] of rng) args.push(id, count);
    for (const [hash, bytes] of Object.entries(batch.coins)) args.push(hash, bytes);
    await redis.eval(APPLY_BATCH, 5, keys.flushedBatch(runId()), keys.hashes, keys.fallback, keys.rngServed, keys.wallet, ...args);
  };
}
