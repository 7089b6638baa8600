import { createLogger } from '@switchyard/infra';
import { describe, expect, it } from 'vitest';
import { CounterSampler } from './sampler.js';
import type { Sample } from './stats.js';

const logger = createLogger({ service: 'sampler-test', level: 'silent' });

/** A counter store whose reads take as long as the test says (a slow Redis). */
function slowCounters() {
  let reads = 0;
  let inFlight = 0;
  let peak = 0;
  const pending: Array<() => void> = [];
  return {
    read: async (): Promise<Sample> => {
      reads += 1;
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise<void>((resolve) => pending.push(resolve));
      inFlight -= 1;
      return { at: Date.now() + reads, hashes: reads * 10, coins: 0, fallback: 0, byRng: {} };
    },
    answerAll: () => pending.splice(0).forEach((resolve) => resolve()),
    get reads() {
      return reads;
    },
    get peak() {
      return peak;
    },
  };
}

describe('CounterSampler', () => {
  it('skips a tick while the previous read is still in flight', async () => {
    const store = slowCounters();
    const sampler = new CounterSampler(store.read, logger, 1_000, 10_000);
    const first = sampler.sample();
    await Promise.all([sampler.sample(), sampler.sample()]); // ticks while Redis is slow
    expect(store.reads).toBe(1);
    store.answerAll();
    await first;
    expect(sampler.window.latest()?.hashes).toBe(10);

    const next = sampler.sample(); // the read finished: the next tick reads again
    expect(store.reads).toBe(2);
    store.answerAll();
    await next;
    expect(store.peak).toBe(1);
  });

  it('keeps sampling after a failed read', async () => {
    let fail = true;
    const sampler = new CounterSampler(
      async () => {
        if (fail) throw new Error('redis is down');
        return { at: Date.now(), hashes: 5, coins: 1, fallback: 0, byRng: {} };
      },
      logger,
    );
    await sampler.sample();
    expect(sampler.window.latest()).toBeUndefined();
    fail = false;
    await sampler.sample();
    expect(sampler.window.latest()?.hashes).toBe(5);
  });
});
