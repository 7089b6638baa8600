import { RateLimiterMemory } from '@switchyard/infra';
import { describe, expect, it } from 'vitest';
import { AllowanceSpent, LeasedAllowance } from './allowance-leases.js';

const WINDOW_MS = 60_000;

/** A shared store (what Redis is to the gateway instances), counting its round trips. */
function store(points: number) {
  const limiter = new RateLimiterMemory({ points, duration: WINDOW_MS / 1_000 });
  const calls: number[] = [];
  const consume = limiter.consume.bind(limiter);
  limiter.consume = (key, taken = 1, options) => {
    calls.push(taken);
    return consume(key, taken, options);
  };
  return { limiter, calls };
}

/** Spends one request: 'ok', or the refusal's ms before the window frees one. */
async function spend(allowance: LeasedAllowance, key: string): Promise<'ok' | number> {
  try {
    await allowance.consume(key);
    return 'ok';
  } catch (error) {
    if (error instanceof AllowanceSpent) return error.msBeforeNext;
    throw error;
  }
}

describe('LeasedAllowance', () => {
  it('asks the store for every request when the allowance is small, and refuses past it', async () => {
    const { limiter, calls } = store(6);
    const allowance = new LeasedAllowance(limiter, { points: 6, windowMs: WINDOW_MS });
    for (let i = 0; i < 6; i += 1) expect(await spend(allowance, 'a')).toBe('ok');
    const refused = await spend(allowance, 'a');
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBeLessThanOrEqual(WINDOW_MS);
    expect(calls.slice(0, 6)).toEqual([1, 1, 1, 1, 1, 1]);
    // Another key has its own allowance.
    expect(await spend(allowance, 'b')).toBe('ok');
    allowance.close();
  });

  it('admits exactly the allowance from leases, with one store round trip per lease', async () => {
    const { limiter, calls } = store(1_000);
    const allowance = new LeasedAllowance(limiter, { points: 1_000, windowMs: WINDOW_MS });
    let admitted = 0;
    while ((await spend(allowance, 'a')) === 'ok') admitted += 1;
    expect(admitted).toBe(1_000);
    // 1 % leases: about a hundred round trips, not a thousand.
    expect(calls.length).toBeLessThanOrEqual(101);
    // Refused from memory afterwards: no more round trips.
    const before = calls.length;
    expect(await spend(allowance, 'a')).not.toBe('ok');
    expect(calls.length).toBe(before);
    allowance.close();
  });

  it('never lets instances sharing one store admit more than the allowance together', async () => {
    const { limiter } = store(1_000);
    const instances = [1, 2, 3].map(() => new LeasedAllowance(limiter, { points: 1_000, windowMs: WINDOW_MS }));
    let admitted = 0;
    for (let round = 0; round < 500; round += 1) {
      for (const instance of instances) if ((await spend(instance, 'a')) === 'ok') admitted += 1;
    }
    expect(admitted).toBeLessThanOrEqual(1_000);
    // What an instance leased and did not use counts as used: at most a lease each short.
    expect(admitted).toBeGreaterThanOrEqual(1_000 - 3 * 9);
    for (const instance of instances) instance.close();
  });

  it('lets concurrent requests wait for the lease being taken instead of asking again', async () => {
    const { limiter, calls } = store(1_000);
    const allowance = new LeasedAllowance(limiter, { points: 1_000, windowMs: WINDOW_MS });
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => spend(allowance, 'a')));
    expect(outcomes).toEqual(Array(10).fill('ok'));
    expect(calls).toEqual([10]);
    allowance.close();
  });

  it('hands out the part of a lease that still fitted the allowance', async () => {
    const { limiter } = store(1_000);
    // Another instance used 995 of the 1 000 points.
    await limiter.consume('a', 995);
    const allowance = new LeasedAllowance(limiter, { points: 1_000, windowMs: WINDOW_MS });
    let admitted = 0;
    while ((await spend(allowance, 'a')) === 'ok') admitted += 1;
    expect(admitted).toBe(5);
    allowance.close();
  });
});
