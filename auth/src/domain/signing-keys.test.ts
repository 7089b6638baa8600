import { randomBytes } from 'node:crypto';
import { createLogger, TokenVerifier } from '@switchyard/infra';
import { describe, expect, it } from 'vitest';
import { AccessTokens } from './access-tokens.js';
import { KeyCipher } from './key-encryption.js';
import type { SigningKeyRecord } from './key-schedule.js';
import { SigningKeys, type KeyRingPolicy, type LockedRing, type SigningKeyStore } from './signing-keys.js';

const MIN = 60_000;
const policy: KeyRingPolicy = {
  rotateAfterMs: 60 * MIN,
  tokenLifetimeMs: 15 * MIN,
  retiredMarginMs: 5 * MIN,
  publishAheadMs: 2 * MIN,
  reloadEveryMs: 30_000,
  retryAfterFailureMs: 5_000,
};
const logger = createLogger({ service: 'auth-test', level: 'silent' });

/** The table and GET_LOCK in memory: a lock that really serializes, and reads that really yield. */
class MemoryKeyStore implements SigningKeyStore {
  rows: Array<SigningKeyRecord & { ringId: string }> = [];
  private lock: Promise<unknown> = Promise.resolve();
  failReads = false;

  async list(ringId: string) {
    await new Promise((resolve) => setImmediate(resolve));
    if (this.failReads) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    return this.rows.filter((row) => row.ringId === ringId).map(({ ringId: _, ...record }) => record);
  }

  withRingLock<T>(ringId: string, change: (ring: LockedRing) => Promise<T>): Promise<T> {
    const run = this.lock.then(() =>
      change({
        list: () => this.list(ringId),
        insert: async (record) => void this.rows.push({ ...record, ringId }),
        remove: async (kids) => void (this.rows = this.rows.filter((row) => !(row.ringId === ringId && kids.includes(row.kid)))),
      }),
    );
    this.lock = run.catch(() => undefined);
    return run;
  }
}

describe('SigningKeys', () => {
  it('instances starting together on an empty ring create one key and all sign with it', async () => {
    const store = new MemoryKeyStore();
    const key = randomBytes(32);
    const instances = Array.from({ length: 3 }, () => new SigningKeys(store, new KeyCipher(key), policy, logger));
    await Promise.all(instances.map((keys) => keys.ready()));
    expect(store.rows).toHaveLength(1);
    const kids = await Promise.all(instances.map(async (keys) => (await keys.signingKey()).kid));
    expect(new Set(kids)).toEqual(new Set([store.rows[0]!.kid]));
  });

  it("a token signed by one instance verifies against another instance's JWKS; a forged one does not", async () => {
    const store = new MemoryKeyStore();
    const key = randomBytes(32);
    const [one, two] = [new SigningKeys(store, new KeyCipher(key), policy, logger), new SigningKeys(store, new KeyCipher(key), policy, logger)];
    const { accessToken } = await new AccessTokens(one, 900).issue({ userId: 'user-1', sessionId: 'session-1' });
    const verifier = new TokenVerifier(() => two.publicJwks());
    await expect(verifier.verify(accessToken)).resolves.toEqual({ id: 'user-1', sessionId: 'session-1' });

    // Another ring (another encryption key) mints tokens with a kid this ring never published.
    const stranger = new SigningKeys(store, new KeyCipher(randomBytes(32)), policy, logger);
    const forged = await new AccessTokens(stranger, 900).issue({ userId: 'user-1', sessionId: 'session-1' });
    await expect(verifier.verify(forged.accessToken)).rejects.toMatchObject({ status: 401 });
    expect((await two.publicJwks()).keys).toHaveLength(1);
  });

  it('rotates: publishes the successor ahead, switches to it, keeps the old key until its tokens expired', async () => {
    const store = new MemoryKeyStore();
    let now = 0;
    const keys = new SigningKeys(store, new KeyCipher(randomBytes(32)), policy, logger, () => now);
    const first = (await keys.signingKey()).kid;

    now = policy.rotateAfterMs; // due: the next read of the ring adds a successor
    await keys.refresh();
    expect(store.rows).toHaveLength(2);
    const second = store.rows[1]!.kid;
    expect((await keys.signingKey()).kid).toBe(first);
    expect((await keys.publicJwks()).keys.map((k) => k.kid)).toEqual([first, second]);

    now += policy.publishAheadMs;
    expect((await keys.signingKey()).kid).toBe(second);
    expect((await keys.publicJwks()).keys.map((k) => k.kid)).toEqual([first, second]);

    now += policy.tokenLifetimeMs + policy.retiredMarginMs;
    expect((await keys.publicJwks()).keys.map((k) => k.kid)).toEqual([second]);
    expect((await keys.publicJwks()).keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
  });

  it('keeps signing with the keys it has while the store is down, and fails only if it never had any', async () => {
    const store = new MemoryKeyStore();
    let now = 0;
    const keys = new SigningKeys(store, new KeyCipher(randomBytes(32)), policy, logger, () => now);
    const kid = (await keys.signingKey()).kid;
    store.failReads = true;
    now += policy.reloadEveryMs * 2;
    expect((await keys.signingKey()).kid).toBe(kid);

    const cold = new SigningKeys(store, new KeyCipher(randomBytes(32)), policy, logger);
    await expect(cold.ready()).rejects.toThrow(/ECONNREFUSED/);
  });

  it('refuses to sign with a key sealed under another encryption key of the same ring', async () => {
    const store = new MemoryKeyStore();
    const keys = new SigningKeys(store, new KeyCipher(randomBytes(32)), policy, logger);
    await keys.ready();
    store.rows[0]!.sealedPrivateKey = new KeyCipher(randomBytes(32)).seal(Buffer.from('x'), store.rows[0]!.kid);
    const reader = new SigningKeys(store, Object.assign(new KeyCipher(randomBytes(32)), { ringId: store.rows[0]!.ringId }), policy, logger);
    await expect(reader.ready()).rejects.toThrow(/does not open/);
  });
});
