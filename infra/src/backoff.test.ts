import { describe, expect, it } from 'vitest';
import { backoffDelay, sleep } from './backoff.js';

const options = { baseMs: 100, maxMs: 5_000 };

describe('backoffDelay', () => {
  it('doubles per attempt (fixed half plus random half)', () => {
    const top = () => 1; // the random half at its maximum: the full exponential delay
    expect([0, 1, 2, 3, 4].map((n) => backoffDelay(n, options, top))).toEqual([100, 200, 400, 800, 1_600]);
  });

  it('never passes the cap, even for huge attempt numbers', () => {
    for (const attempt of [6, 10, 50, 1_000, 10_000]) {
      expect(backoffDelay(attempt, options, () => 1)).toBe(5_000);
      expect(backoffDelay(attempt, options, () => 0)).toBe(2_500);
    }
  });

  it('keeps the jitter between half and all of the exponential delay', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const full = Math.min(5_000, 100 * 2 ** attempt);
      expect(backoffDelay(attempt, options, () => 0)).toBe(Math.round(full / 2));
      expect(backoffDelay(attempt, options, () => 0.999_999)).toBeLessThanOrEqual(full);
      const mid = backoffDelay(attempt, options, () => 0.5);
      expect(mid).toBe(Math.round(full * 0.75));
    }
  });

  it('honours a custom factor and treats a negative attempt as the first', () => {
    expect(backoffDelay(2, { ...options, factor: 3 }, () => 1)).toBe(900);
    expect(backoffDelay(-5, options, () => 1)).toBe(100);
  });
});

describe('sleep', () => {
  it('waits about the given time', async () => {
    const started = performance.now();
    await sleep(30);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
  });

  it('resolves at once when its signal aborts', async () => {
    const controller = new AbortController();
    const started = performance.now();
    const sleeping = sleep(60_000, controller.signal);
    setTimeout(() => controller.abort(), 10);
    await sleeping;
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('resolves at once when the signal was already aborted', async () => {
    const started = performance.now();
    await sleep(60_000, AbortSignal.abort());
    expect(performance.now() - started).toBeLessThan(100);
  });
});
