import { describe, expect, it } from 'vitest';
import { MiningLoop } from './mining-loop.js';

const until = async (condition: () => boolean) => {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 1));
};

describe('MiningLoop', () => {
  it('runs `concurrency` iterations at once', async () => {
    let running = 0;
    let peak = 0;
    let done = 0;
    const loop = new MiningLoop({
      concurrency: 4,
      iteration: async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 2));
        running -= 1;
        done += 1;
      },
    });
    loop.start();
    await until(() => done >= 20);
    expect(await loop.stop(1_000)).toBe(true);
    expect(peak).toBe(4);
    expect(running).toBe(0);
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
    await until(() => successes >= 5);
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
    await until(() => calls >= 5);
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
    await until(() => loop.inFlight === 1);
    const stopped = loop.stop(1_000);
    release();
    expect(await stopped).toBe(true);
    expect(finished).toBe(1); // finished, and no new iteration began after stop

    const stuck = new MiningLoop({ concurrency: 1, iteration: () => new Promise<void>(() => {}) });
    stuck.start();
    expect(await stuck.stop(20)).toBe(false);
  });
});
