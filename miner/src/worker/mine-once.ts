import { withSpan, type ServiceClient } from '@switchyard/infra';
import { SHA256_HEX, isCoin } from './coin.js';
import type { MinedHash } from './counters.js';
import { MiningFailure, calling } from './failure.js';

export interface MineOptions {
  bytesPerHash: number;
  coinPrefix: string;
}

/**
 * One turn of dockercoins' loop: random bytes from rng → their SHA-256 from hasher → coin or not.
 * Any failure is thrown as a MiningFailure saying which call failed and why. Each turn is one
 * trace (`mine`), so Jaeger shows worker → rng and worker → hasher as one story.
 */
export function mineOnce(rng: ServiceClient, hasher: ServiceClient, options: MineOptions): Promise<MinedHash> {
  return withSpan('mine', async (span) => {
    const mined = await mineUntraced(rng, hasher, options);
    span.setAttribute('miner.source', mined.source.kind === 'rng' ? mined.source.instanceId : 'fallback');
    span.setAttribute('miner.coin', mined.coin !== undefined);
    return mined;
  });
}

async function mineUntraced(rng: ServiceClient, hasher: ServiceClient, options: MineOptions): Promise<MinedHash> {
  const random = await calling('rng', () => rng.get(`/${options.bytesPerHash}`));
  if (random.status !== 200 || random.body.length !== options.bytesPerHash) {
    throw new MiningFailure('rng', 'bad_answer', `rng answered ${random.status} with ${random.body.length} bytes: ${preview(random.body)}`);
  }
  // Hashing is a pure function, so a retry on another hasher instance is always safe.
  const hashed = await calling('hasher', () =>
    hasher.post('/', random.body, { idempotent: true, headers: { 'content-type': 'application/octet-stream' } }),
  );
  const hash = hashed.body.toString('utf8').trim();
  if (hashed.status !== 200 || !SHA256_HEX.test(hash)) {
    throw new MiningFailure('hasher', 'bad_answer', `hasher answered ${hashed.status}: ${preview(hashed.body)}`);
  }
  const source: MinedHash['source'] = random.fromFallback
    ? { kind: 'fallback' }
    : { kind: 'rng', instanceId: random.instance?.id ?? 'unknown' };
  return {
    source,
    coin: isCoin(hash, options.coinPrefix) ? { hash, bytes: random.body.toString('hex') } : undefined,
  };
}

function preview(body: Buffer): string {
  return body.toString('utf8', 0, 200).replace(/\s+/g, ' ');
}
