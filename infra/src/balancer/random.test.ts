import { describe, expect, it } from 'vitest';
import { randomChoice } from './random.js';
import { instances } from './test-support.js';

/** A deterministic random source: a small linear congruential generator. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('randomChoice', () => {
  it('uses the injected random source to index the list', () => {
    const list = instances('a', 'b', 'c');
    const values = [0, 0.34, 0.67, 0.999];
    const balancer = randomChoice(() => values.shift()!);
    expect([1, 2, 3, 4].map(() => balancer.pick(list)?.id)).toEqual(['a', 'b', 'c', 'c']);
  });

  it('spreads picks roughly evenly', () => {
    const list = instances('a', 'b', 'c', 'd');
    const balancer = randomChoice(seeded(42));
    const counts: Record<string, number> = {};
    for (let i = 0; i < 4_000; i++) {
      const id = balancer.pick(list)!.id;
      counts[id] = (counts[id] ?? 0) + 1;
    }
    for (const id of ['a', 'b', 'c', 'd']) {
      expect(counts[id]).toBeGreaterThan(850);
      expect(counts[id]).toBeLessThan(1_150);
    }
  });

  it('returns undefined for an empty list without consuming randomness', () => {
    let calls = 0;
    expect(randomChoice(() => (calls++, 0.5)).pick([])).toBeUndefined();
    expect(calls).toBe(0);
  });
});
