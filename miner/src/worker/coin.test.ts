import { describe, expect, it } from 'vitest';
import { isCoin } from './coin.js';

describe('isCoin', () => {
  const hash = (start: string) => start + 'a'.repeat(64 - start.length);

  it('is a coin when the hex hash starts with the prefix (dockercoins: "0")', () => {
    expect(isCoin(hash('0'), '0')).toBe(true);
    expect(isCoin(hash('0f'), '0')).toBe(true);
    expect(isCoin(hash('10'), '0')).toBe(false);
  });

  it('needs every digit of a longer prefix', () => {
    expect(isCoin(hash('000'), '000')).toBe(true);
    expect(isCoin(hash('001'), '000')).toBe(false);
  });

  it('ignores the case of hex digits', () => {
    expect(isCoin(hash('AB'), 'ab')).toBe(true);
    expect(isCoin(hash('ab'), 'AB')).toBe(true);
  });

  it('makes about 1 hash in 16 a coin with the default prefix', async () => {
    const { createHash, randomBytes } = await import('node:crypto');
    let coins = 0;
    for (let i = 0; i < 16_000; i++) if (isCoin(createHash('sha256').update(randomBytes(32)).digest('hex'), '0')) coins++;
    expect(coins).toBeGreaterThan(800);
    expect(coins).toBeLessThan(1_200);
  });
});
