import { describe, expect, it } from 'vitest';
import { BOUNDS, counted, view } from './test-views.js';
import { latencyQuantile, sumTraffic, trafficBetween } from './traffic.js';

describe('trafficBetween', () => {
  it('counts the requests and errors each instance got between two samples', () => {
    const older = view('gw', 0, { rng: [counted('a', 100), counted('b', 50, { errors: 2 })] });
    const newer = view('gw', 1, { rng: [counted('a', 110), counted('b', 55, { errors: 5 })] });
    const traffic = trafficBetween(older, newer).get('rng')!;
    expect(traffic.get('a')).toMatchObject({ requests: 10, errors: 0, timed: 10 });
    expect(traffic.get('b')).toMatchObject({ requests: 8, errors: 3, timed: 8 });
  });

  it('does not count attempts a breaker stopped before they were sent', () => {
    const older = view('gw', 0, { rng: [counted('a', 10)] });
    const newer = view('gw', 1, { rng: [{ ...counted('a', 12), outcomes: { ok: 12, breaker_open: 40 } }] });
    expect(trafficBetween(older, newer).get('rng')!.get('a')!.requests).toBe(2);
  });

  it('counts a new instance from zero', () => {
    const older = view('gw', 0, { rng: [counted('a', 10)] });
    const newer = view('gw', 1, { rng: [counted('a', 20), counted('new', 4)] });
    expect(trafficBetween(older, newer).get('rng')!.get('new')!.requests).toBe(4);
  });

  it('never gives a negative count when the caller restarted (its counters reset)', () => {
    const older = view('gw', 0, { rng: [counted('a', 5_000)] });
    const restarted = view('gw', 1, { rng: [counted('a', 7)] }, { startedAt: 2 });
    expect(trafficBetween(older, restarted).get('rng')!.get('a')).toMatchObject({ requests: 7, timed: 7 });
    // Same process, but the series was forgotten and re-created (the instance left and came back).
    const recreated = view('gw', 1, { rng: [counted('a', 3)] });
    expect(trafficBetween(older, recreated).get('rng')!.get('a')!.requests).toBe(3);
  });
});

describe('sumTraffic', () => {
  it('sums the callers of an instance, and keeps an instance only one caller knows', () => {
    const gateway = trafficBetween(view('gw', 0, { rng: [counted('a', 0), counted('b', 0)] }), view('gw', 1, { rng: [counted('a', 10), counted('b', 10)] }));
    const worker = trafficBetween(view('wk', 0, { rng: [counted('a', 0)] }), view('wk', 1, { rng: [counted('a', 30)] }));
    const total = sumTraffic([gateway, worker]).get('rng')!;
    expect(total.get('a')).toMatchObject({ requests: 40, timed: 40, buckets: [40, 40, 40] });
    expect(total.get('b')!.requests).toBe(10);
  });
});

describe('latencyQuantile', () => {
  it('interpolates inside the bucket holding the rank, as histogram_quantile does', () => {
    // 50 calls ≤ 10 ms, 50 more ≤ 100 ms.
    const traffic = { requests: 100, errors: 0, timed: 100, buckets: [50, 100, 100] };
    expect(latencyQuantile(traffic, BOUNDS, 0.5)).toBeCloseTo(0.01);
    expect(latencyQuantile(traffic, BOUNDS, 0.75)).toBeCloseTo(0.055);
    expect(latencyQuantile(traffic, BOUNDS, 0.99)).toBeCloseTo(0.0982);
  });

  it('is null with nothing timed, and the last bound past it', () => {
    expect(latencyQuantile({ requests: 0, errors: 0, timed: 0, buckets: [0, 0, 0] }, BOUNDS, 0.5)).toBeNull();
    expect(latencyQuantile({ requests: 10, errors: 0, timed: 10, buckets: [0, 0, 5] }, BOUNDS, 0.99)).toBe(1);
  });
});
