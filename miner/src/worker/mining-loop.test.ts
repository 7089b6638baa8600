import { describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/support/wait.js';
import { MiningLoop } from './mining-loop.js';

/**
 * Polls every millisecond (some states last an iteration of ~2 ms); fails naming `what` when
 * `condition` never held within 5 s, instead of hanging until the test times out.
 */
const until = (what: string, condition: () => boolean) => waitFor(what, condition, { timeoutMs: 5_000, intervalMs: 1 });

/** An iteration that takes ~2 ms and records how many run at once, and how many finished. */
function countingIteration() {
  const stats = { running: 0, peak: 0, done: 0 };
  const iteration = async () => {
    stats.running += 1;
    stats.peak = Math.max(stats.peak, stats.running);
    await new Promise((resolve) => setTimeout(resolve, 2));
    stats.running -= 1;
    stats.done += 1;
  };
  return { stats, iteration };
}

describe('MiningLoop', () => {
  it('runs `concurrency` iterations at once', async () => {
    const { stats, iteration } = countingIteration();
    const loop = new MiningLoop({ concurrency: 4, iteration });
    loop.start();
    await until('20 iterations done', () => stats.done >= 20);
    expect(await loop.stop(1_000)).toBe(true);
    expect(stats.peak).toBe(4);
    expect(stats.running).toBe(0);
  });

  it('grows and shrinks its lanes on resize, letting surplus lanes finish their iteration', async () => {
    const { stats, iteration } = countingIteration();
    const loop = new MiningLoop({ concurrency: 2, iteration });
    loop.start();
    await until('2 iterations in flight', () => loop.inFlight === 2);
    loop.resize(6);
    expect(loop.concurrency).toBe(6);
    await until('6 iterations in flight after growing to 6 lanes', () => loop.inFlight === 6);
    loop.resize(3);
    // Surplus lanes retire after the iteration they are in; the rest keep mining.
    await until('3 lanes left after shrinking', () => loop.lanesRunning === 3);
    const seen = new Set<number>();
    for (let i = 0; i < 50; i++) {
      seen.add(loop.inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(Math.max(...seen)).toBeLessThanOrEqual(3);
    expect(seen.has(3)).toBe(true);
    expect(await loop.stop(1_000)).toBe(true);
    expect(stats.running).toBe(0);
  });

  it('applies a resize made before start', async () => {
    const { stats, iteration } = countingIteration();
    const loop = new MiningLoop({ concurrency: 1, iteration });
    loop.resize(3);
    loop.start();
    await until('15 iterations done', () => stats.done >= 15);
    expect(await loop.stop(1_000)).toBe(true);
    expect(stats.peak).toBe(3);
  });

  it('survives failing iterations, backs off, and recovers', async () => {
    let calls = 0;
    let successes = 0;
    const failuresSeen: number[] = [];
    const loop = new MiningLoop({
      concurrency: 1,
      iteration: async () => {
        calls += 1;
        if (calls <= 3) throw new Error('rng is down');
        successes += 1;
      },
      onError: (_error, consecutive) => failuresSeen.push(consecutive),
      backoff: { baseMs: 1, maxMs: 4 },
    });
    loop.start();
    await until('5 successes after the failures', () => successes >= 5);
    expect(await loop.stop(1_000)).toBe(true);
    expect(failuresSeen).toEqual([1, 2, 3]);
    expect(loop.failedIterations).toBe(3);
  });

  it('keeps going when the error reporter itself throws', async () => {
    let calls = 0;
    const loop = new MiningLoop({
      concurrency: 1,
      iteration: async () => {
        calls += 1;
        throw new Error('always');
      },
      onError: () => {
        throw new Error('broken logger');
      },
      backoff: { baseMs: 1, maxMs: 1 },
    });
    loop.start();
    await until('5 iterations despite the broken reporter', () => calls >= 5);
    expect(await loop.stop(1_000)).toBe(true);
  });

  it('lets the running iterations finish on stop, and reports a lane that does not', async () => {
    let release!: () => void;
    let finished = 0;
    const loop = new MiningLoop({
      concurrency: 1,
      iteration: async () => {
        await new Promise<void>((resolve) => (release = resolve));
        finished += 1;
      },
    });
    loop.start();
    await until('the iteration in flight', () => loop.inFlight === 1);
    const stopped = loop.stop(1_000);
    release();
    expect(await stopped).toBe(true);
    expect(finished).toBe(1); // finished, and no new iteration began after stop

    const stuck = new MiningLoop({ concurrency: 1, iteration: () => new Promise<void>(() => {}) });
    stuck.start();
    expect(await stuck.stop(20)).toBe(false);
  });
});
