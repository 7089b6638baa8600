import type { ServiceClient } from '@switchyard/infra';
import { SHA256_HEX, isCoin } from './coin.js';
import type { MinedHash } from './counters.js';

export interface MineOptions {
  bytesPerHash: number;
  coinPrefix: string;
}

/** One turn of dockercoins' loop: random bytes from rng → their SHA-256 from hasher → coin or not. */
export async function mineOnce(rng: ServiceClient, hasher: ServiceClient, options: MineOptions): Promise<MinedHash> {
  const random = await rng.get(`/${options.bytesPerHash}`);
  if (random.status !== 200 || random.body.length !== options.bytesPerHash) {
    throw new Error(`rng answered ${random.status} with ${random.body.length} bytes: ${preview(random.body)}`);
  }
  // Hashing is a pure function, so a retry on another hasher instance is always safe.
  const hashed = await hasher.post('/', random.body, {
    idempotent: true,
    headers: { 'content-type': 'application/octet-stream' },
  });
  const hash = hashed.body.toString('utf8').trim();
  if (hashed.status !== 200 || !SHA256_HEX.test(hash)) {
    throw new Error(`hasher answered ${hashed.status}: ${preview(hashed.body)}`);
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
