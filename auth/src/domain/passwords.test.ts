import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ARGON2_PARAMETERS, DECOY_HASH, PasswordHasher } from './passwords.js';

describe('PasswordHasher', () => {
  const hasher = new PasswordHasher();

  it('hashes with argon2id at the OWASP parameters and verifies', async () => {
    const stored = await hasher.hash('correct horse battery staple');
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await hasher.verifyOrWaste(stored, 'correct horse battery staple')).toBe(true);
    expect(await hasher.verifyOrWaste(stored, 'correct horse battery stapler')).toBe(false);
    expect(await hasher.isOutdated(stored)).toBe(false);
  });

  it('treats composed and decomposed accents as the same password (NFKC)', async () => {
    const stored = await hasher.hash('caf\u00e9 au lait');
    expect(await hasher.verifyOrWaste(stored, 'cafe\u0301 au lait')).toBe(true);
  });

  it('answers false for an unknown account and for a broken hash, never throws', async () => {
    expect(await hasher.verifyOrWaste(undefined, 'anything')).toBe(false);
    expect(await hasher.verifyOrWaste('not a hash', 'anything')).toBe(false);
    // Other parameters get a decoy of their own, made at the first unknown account.
    expect(await new PasswordHasher({ ...ARGON2_PARAMETERS, memoryCost: 4_096 }).verifyOrWaste(undefined, 'anything')).toBe(false);
  });

  it("keeps a decoy made with today's parameters (an unknown account costs the verify a known one does)", async () => {
    expect(await hasher.isOutdated(DECOY_HASH)).toBe(false);
    expect(await hasher.verifyOrWaste(DECOY_HASH, 'decoy')).toBe(false);
  });

  it('loads the argon2 native module at the first hash, not when the hasher is made', () => {
    const script = `
      import { readFileSync } from 'node:fs';
      const { PasswordHasher } = await import(${JSON.stringify(fileURLToPath(new URL('./passwords.ts', import.meta.url)))});
      const mapped = () => readFileSync('/proc/self/maps', 'utf8').includes('argon2');
      const hasher = new PasswordHasher();
      const before = mapped();
      await hasher.hash('pw-12345678');
      console.log(JSON.stringify({ before, after: mapped() }));`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({ before: false, after: true });
  });

  it('spots a hash made with weaker parameters', async () => {
    const old = await new PasswordHasher({ ...ARGON2_PARAMETERS, memoryCost: 4_096 }).hash('pw-12345678');
    expect(await hasher.isOutdated(old)).toBe(true);
  });
});
