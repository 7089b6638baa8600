import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, reconnectDelay } from './reconnect-delay.js';

describe('reconnectDelay', () => {
  const backoff = { initialMs: 100, maxMs: 2_000 };

  it('doubles the ceiling per attempt, up to maxMs', () => {
    const ceiling = (attempt: number) => reconnectDelay(attempt, backoff, () => 1);
    expect([0, 1, 2, 3, 4, 5, 6].map(ceiling)).toEqual([100, 200, 400, 800, 1600, 2000, 2000]);
    expect(ceiling(1_000)).toBe(2000);
  });

  it('waits a random point in the upper half of the ceiling (never 0)', () => {
    expect(reconnectDelay(0, backoff, () => 0)).toBe(50);
    expect(reconnectDelay(3, backoff, () => 0)).toBe(400);
    expect(reconnectDelay(3, backoff, () => 0.5)).toBe(600);
    for (let i = 0; i < 1_000; i++) {
      const delay = reconnectDelay(2, backoff);
      expect(delay).toBeGreaterThanOrEqual(200);
      expect(delay).toBeLessThanOrEqual(400);
    }
  });

  it('spreads the clients of one closed instance over the window', () => {
    const delays = Array.from({ length: 200 }, () => reconnectDelay(0, DEFAULT_BACKOFF));
    expect(new Set(delays).size).toBeGreaterThan(20);
  });

  it('treats a negative attempt as the first', () => {
    expect(reconnectDelay(-3, backoff, () => 1)).toBe(100);
  });
});
