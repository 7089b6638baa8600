import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyCipher } from './key-encryption.js';

describe('KeyCipher', () => {
  const cipher = new KeyCipher(randomBytes(32));
  const secret = Buffer.from('a private key, in DER');

  it('opens what it sealed for the same kid', () => {
    const sealed = cipher.seal(secret, 'kid-1');
    expect(sealed.includes(secret)).toBe(false);
    expect(cipher.open(sealed, 'kid-1')).toEqual(secret);
  });

  it('refuses another kid, another key, and any altered byte', () => {
    const sealed = cipher.seal(secret, 'kid-1');
    expect(() => cipher.open(sealed, 'kid-2')).toThrow(/does not open/);
    expect(() => new KeyCipher(randomBytes(32)).open(sealed, 'kid-1')).toThrow(/does not open/);
    for (const index of [1, 13, 29, sealed.length - 1]) {
      const altered = Buffer.from(sealed);
      altered[index]! ^= 1;
      expect(() => cipher.open(altered, 'kid-1')).toThrow(/does not open/);
    }
    expect(() => cipher.open(sealed.subarray(0, 10), 'kid-1')).toThrow(/not a sealed key/);
  });

  it('names one ring per encryption key, without revealing it', () => {
    const key = randomBytes(32);
    expect(new KeyCipher(key).ringId).toBe(new KeyCipher(Buffer.from(key)).ringId);
    expect(new KeyCipher(key).ringId).not.toBe(cipher.ringId);
    expect(new KeyCipher(key).ringId).toMatch(/^[0-9a-f]{32}$/);
    expect(new KeyCipher(key).ringId).not.toContain(key.toString('hex').slice(0, 32));
  });

  it('wants exactly 32 bytes', () => {
    expect(() => new KeyCipher(randomBytes(16))).toThrow(/32 bytes/);
  });
});
