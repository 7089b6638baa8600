import { describe, expect, it } from 'vitest';
import { RetryBudget } from './retry-budget.js';

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

function drain(budget: RetryBudget): number {
  let granted = 0;
  while (budget.tryAcquire()) {
    granted += 1;
    if (granted > 10_000) throw new Error('budget never ran out');
  }
  return granted;
}

describe('RetryBudget', () => {
  it('allows minPerSecond × window retries with no traffic at all', () => {
    const clock = manualClock();
    const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 3, windowMs: 10_000 }, clock.now);
    expect(drain(budget)).toBe(30);
    expect(budget.tryAcquire()).toBe(false);
  });

  it('grows the allowance with the request count (ratio)', () => {
    const clock = manualClock();
    const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 1, windowMs: 1_000 }, clock.now);
    for (let i = 0; i < 50; i++) budget.recordRequest();
    // 0.2 × 50 + 1 × 1 = 11
    expect(drain(budget)).toBe(11);
    for (let i = 0; i < 10; i++) budget.recordRequest();
    // two more: 0.2 × 60 + 1 = 13
    expect(drain(budget)).toBe(2);
  });

  it('forgets requests and retries once they leave the window', () => {
    const clock = manualClock();
    const budget = new RetryBudget({ ratio: 0.5, minPerSecond: 1, windowMs: 3_000 }, clock.now);
    for (let i = 0; i < 10; i++) budget.recordRequest();
    expect(drain(budget)).toBe(8); // 0.5 × 10 + 1 × 3
    clock.advance(1_000);
    expect(budget.tryAcquire()).toBe(false); // still inside the window
    clock.advance(2_000);
    // The first second's requests and retries are gone: only the floor is left.
    expect(drain(budget)).toBe(3);
  });

  it('keeps memory bounded: old buckets are evicted', () => {
    const clock = manualClock();
    const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 0, windowMs: 2_000 }, clock.now);
    for (let second = 0; second < 1_000; second++) {
      budget.recordRequest();
      clock.advance(1_000);
    }
    expect((budget as unknown as { buckets: Map<number, unknown> }).buckets.size).toBeLessThanOrEqual(2);
  });
});
