import { describe, expect, it } from 'vitest';
import { ARGON2_PARAMETERS, PasswordHasher } from './passwords.js';

describe('PasswordHasher', () => {
  const hasher = new PasswordHasher();

  it('hashes with argon2id at the OWASP parameters and verifies', async () => {
    const stored = await hasher.hash('correct horse battery staple');
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await hasher.verifyOrWaste(stored, 'correct horse battery staple')).toBe(true);
    expect(await hasher.verifyOrWaste(stored, 'correct horse battery stapler')).toBe(false);
    expect(hasher.isOutdated(stored)).toBe(false);
  });

  it('treats composed and decomposed accents as the same password (NFKC)', async () => {
    const stored = await hasher.hash('caf\u00e9 au lait');
    expect(await hasher.verifyOrWaste(stored, 'cafe\u0301 au lait')).toBe(true);
  });

  it('answers false for an unknown account and for a broken hash, never throws', async () => {
    expect(await hasher.verifyOrWaste(undefined, 'anything')).toBe(false);
    expect(await hasher.verifyOrWaste('not a hash', 'anything')).toBe(false);
  });

  it('spots a hash made with weaker parameters', async () => {
    const old = await new PasswordHasher({ ...ARGON2_PARAMETERS, memoryCost: 4_096 }).hash('pw-12345678');
    expect(hasher.isOutdated(old)).toBe(true);
  });
});
