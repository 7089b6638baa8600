import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

const VERSION = 1;
const IV_BYTES = 12; // GCM's native nonce size
const TAG_BYTES = 16;

/**
 * Seals the signing keys' private halves with AES-256-GCM under AUTH_KEY_ENCRYPTION_KEY, so the
 * database alone (a backup, a read-only leak) cannot mint tokens. The key id is authenticated
 * data: a sealed key copied onto another row does not open.
 *
 * Layout: version (1 byte) | IV (12) | tag (16) | ciphertext.
 */
export class KeyCipher {
  /**
   * Names the key ring this encryption key opens, without revealing the key: instances that share
   * a database but not the encryption key (a test run beside `make dev`) keep separate rings
   * instead of failing on each other's keys.
   */
  readonly ringId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new RangeError(`the key encryption key must be 32 bytes, not ${key.length}`);
    this.ringId = createHmac('sha256', key).update('switchyard-auth signing key ring').digest('hex').slice(0, 32);
  }

  seal(plaintext: Buffer, kid: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(kid, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([Buffer.of(VERSION), iv, cipher.getAuthTag(), ciphertext]);
  }

  /** Throws when `sealed` was not made by this key for `kid`, or was altered since. */
  open(sealed: Buffer, kid: string): Buffer {
    if (sealed.length < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== VERSION) {
      throw new Error(`signing key ${kid}: not a sealed key of version ${VERSION}`);
    }
    const iv = sealed.subarray(1, 1 + IV_BYTES);
    const tag = sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
    decipher.setAAD(Buffer.from(kid, 'utf8'));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(sealed.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]);
    } catch {
      throw new Error(`signing key ${kid} does not open with AUTH_KEY_ENCRYPTION_KEY (altered, or sealed by another key)`);
    }
  }
}
