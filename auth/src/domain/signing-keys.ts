import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { Logger } from '@switchyard/infra';
import { calculateJwkThumbprint } from 'jose';
import type { KeyCipher } from './key-encryption.js';
import { activationOfNewKey, keySchedule, type SchedulePolicy, type SigningKeyRecord } from './key-schedule.js';

/** Where the key rings live; every instance of auth reads and writes the same rows. */
export interface SigningKeyStore {
  list(ringId: string): Promise<SigningKeyRecord[]>;
  /** Runs `change` holding the ring's lock: one instance at a time, across processes. */
  withRingLock<T>(ringId: string, change: (ring: LockedRing) => Promise<T>): Promise<T>;
}

export interface LockedRing {
  list(): Promise<SigningKeyRecord[]>;
  insert(record: SigningKeyRecord): Promise<void>;
  remove(kids: string[]): Promise<void>;
}

/** A public key as `GET /.well-known/jwks.json` publishes it. */
export interface PublishedKey {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
  alg: 'EdDSA';
  use: 'sig';
}

export interface KeyRingPolicy extends SchedulePolicy {
  /** How stale this instance's copy of the ring may get before it reads it again. */
  reloadEveryMs: number;
  /** After a failed reload (database down), keep the copy this long before trying again. */
  retryAfterFailureMs: number;
}

/**
 * This instance's view of the shared Ed25519 signing keys. The first load of an empty ring creates
 * its first key; a load that finds the newest key due for rotation creates a successor. Both run
 * under the ring's lock and decide again on the rows read under it, so instances starting
 * together create one key and all sign with it.
 */
export class SigningKeys {
  private records: SigningKeyRecord[] | undefined;
  private loadedAt = -Infinity;
  private loading: Promise<SigningKeyRecord[]> | undefined;
  /** Decrypted private keys by kid: opening one costs a little, signing happens per sign-in. */
  private readonly privateKeys = new Map<string, KeyObject>();

  constructor(
    private readonly store: SigningKeyStore,
    private readonly cipher: KeyCipher,
    private readonly policy: KeyRingPolicy,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Reads the ring now (creating a key when due). Concurrent calls share one read. */
  refresh(): Promise<SigningKeyRecord[]> {
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  /** Resolves once a signing key is loaded and opens with this instance's encryption key. */
  async ready(): Promise<void> {
    await this.signingKey();
  }

  async signingKey(): Promise<{ kid: string; privateKey: KeyObject }> {
    const { signing } = keySchedule(await this.current(), this.now(), this.policy);
    if (!signing) throw new Error('the signing key ring is empty');
    let privateKey = this.privateKeys.get(signing.kid);
    if (!privateKey) {
      const der = this.cipher.open(signing.sealedPrivateKey, signing.kid);
      privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
      this.privateKeys.set(signing.kid, privateKey);
    }
    return { kid: signing.kid, privateKey };
  }

  /**
   * The keys a verifier may meet now. `reload`: read the ring first (a verifier met an unknown
   * kid; it rate-limits how often it asks).
   */
  async publicJwks(options: { reload?: boolean } = {}): Promise<{ keys: PublishedKey[] }> {
    const records = options.reload ? await this.refresh().catch(() => this.current()) : await this.current();
    const { published } = keySchedule(records, this.now(), this.policy);
    return {
      keys: published.map((record) => ({ kty: 'OKP', crv: 'Ed25519', x: record.publicJwk.x, kid: record.kid, alg: 'EdDSA', use: 'sig' })),
    };
  }

  /** The cached ring, read again when stale; a failed read keeps the old copy while there is one. */
  private async current(): Promise<SigningKeyRecord[]> {
    if (this.records && this.now() - this.loadedAt < this.policy.reloadEveryMs) return this.records;
    try {
      return await this.refresh();
    } catch (error) {
      if (!this.records) throw error;
      this.logger.warn({ err: (error as Error).message }, 'signing keys: reload failed, keeping the keys already loaded');
      // Not on every request while the database is down: try again a little later.
      this.loadedAt = this.now() - this.policy.reloadEveryMs + this.policy.retryAfterFailureMs;
      return this.records;
    }
  }

  private async load(): Promise<SigningKeyRecord[]> {
    const ringId = this.cipher.ringId;
    let records = await this.store.list(ringId);
    if (keySchedule(records, this.now(), this.policy).needsNewKey) {
      records = await this.store.withRingLock(ringId, (ring) => this.rotate(ring));
    }
    this.records = records;
    this.loadedAt = this.now();
    return records;
  }

  /** Under the lock: drop expired keys, and add a key if (still) due. */
  private async rotate(ring: LockedRing): Promise<SigningKeyRecord[]> {
    // Another instance may have added the key while we waited for the lock: decide on fresh rows.
    const records = await ring.list();
    const now = this.now();
    const schedule = keySchedule(records, now, this.policy);
    if (schedule.expired.length > 0) {
      await ring.remove(schedule.expired.map((record) => record.kid));
      for (const record of schedule.expired) this.privateKeys.delete(record.kid);
    }
    if (!schedule.needsNewKey) return records.filter((record) => !schedule.expired.includes(record));
    const record = await this.generate(activationOfNewKey(records, now, this.policy), now);
    await ring.insert(record);
    this.logger.info({ kid: record.kid, activatesAt: new Date(record.activatesAt).toISOString() }, 'signing keys: created a new key');
    return ring.list();
  }

  private async generate(activatesAt: number, createdAt: number): Promise<SigningKeyRecord> {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const jwk = publicKey.export({ format: 'jwk' });
    if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.x) throw new Error('unexpected Ed25519 public JWK');
    const publicJwk = { kty: jwk.kty, crv: jwk.crv, x: jwk.x };
    // The RFC 7638 thumbprint: a kid derived from the key itself, the same wherever it is computed.
    const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    return { kid, publicJwk, sealedPrivateKey: this.cipher.seal(der, kid), createdAt, activatesAt };
  }
}
