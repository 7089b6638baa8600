import { describe, expect, it } from 'vitest';
import { SampleWindow, type Sample } from './stats.js';

const sample = (seconds: number, hashes: number, extra: Partial<Sample> = {}): Sample => ({
  at: 1_000_000 + seconds * 1000,
  hashes,
  coins: 0,
  fallback: 0,
  byRng: {},
  ...extra,
});

describe('SampleWindow', () => {
  it('reports nothing until two samples exist', () => {
    const window = new SampleWindow(10_000);
    expect(window.stats().hashesPerSecond).toBe(0);
    window.add(sample(0, 100));
    expect(window.stats()).toEqual({ hashesPerSecond: 0, spanSeconds: 0, fallbackShare: 0, rngShares: {} });
  });

  it('computes hashes/s between the oldest and newest sample of the window', () => {
    const window = new SampleWindow(10_000);
    window.add(sample(0, 0));
    window.add(sample(1, 20));
    window.add(sample(2, 40));
    expect(window.stats().hashesPerSecond).toBe(20);
    expect(window.stats().spanSeconds).toBe(2);
  });

  it('smooths a once-a-second flush that lands 0 or 2 times between samples', () => {
    const window = new SampleWindow(10_000);
    const counts = [0, 10, 10, 30, 40, 40, 60, 70, 80, 80, 100, 110];
    counts.forEach((hashes, second) => window.add(sample(second, hashes)));
    expect(window.stats().hashesPerSecond).toBeCloseTo(10, 0);
  });

  it('forgets samples older than the window', () => {
    const window = new SampleWindow(5_000);
    for (let s = 0; s <= 10; s++) window.add(sample(s, s * 10)); // 10/s
    for (let s = 11; s <= 20; s++) window.add(sample(s, 100 + (s - 10) * 40)); // then 40/s
    expect(window.stats().hashesPerSecond).toBe(40);
    expect(window.stats().spanSeconds).toBe(5);
  });

  it('gives the fallback and per-rng-instance shares of the hashes in the window', () => {
    const window = new SampleWindow(10_000);
    window.add(sample(0, 100, { fallback: 10, byRng: { a: 60, b: 30 } }));
    window.add(sample(4, 200, { fallback: 10, byRng: { a: 110, b: 80 } }));
    expect(window.stats().fallbackShare).toBe(0);
    expect(window.stats().rngShares).toEqual({ a: 0.5, b: 0.5 });

    window.add(sample(8, 300, { fallback: 60, byRng: { a: 110, b: 130 } })); // a is gone
    const stats = window.stats();
    expect(stats.fallbackShare).toBeCloseTo(50 / 200);
    expect(stats.rngShares).toEqual({ a: 50 / 200, b: 100 / 200 });
  });

  it('starts over when the counters go backwards (Redis flushed)', () => {
    const window = new SampleWindow(10_000);
    window.add(sample(0, 1000));
    window.add(sample(1, 1010));
    window.add(sample(2, 5));
    expect(window.stats().hashesPerSecond).toBe(0);
    window.add(sample(3, 15));
    expect(window.stats().hashesPerSecond).toBe(10);
  });

  it('keeps the last historyLength rates for the chart', () => {
    const window = new SampleWindow(10_000, 3);
    for (let s = 0; s < 6; s++) window.add(sample(s, s * 5));
    const history = window.history();
    expect(history).toHaveLength(3);
    expect(history.map(([t]) => t)).toEqual([1003, 1004, 1005]);
    expect(history.at(-1)![1]).toBe(5);
  });
});
