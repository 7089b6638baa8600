import { describe, expect, it } from 'vitest';
import { powerOfTwoChoices } from './p2c.js';
import { instances } from './test-support.js';

describe('powerOfTwoChoices', () => {
  it('picks the less loaded of the two sampled candidates', () => {
    const list = instances('a', 'b', 'c');
    const load: Record<string, number> = { a: 5, b: 1, c: 0 };
    // First draw → index 0 (a); second draw over the remaining two → index 0, shifted past a → b.
    const draws = [0, 0];
    const balancer = powerOfTwoChoices((id) => load[id]!, () => draws.shift()!);
    expect(balancer.pick(list)?.id).toBe('b');
  });

  it('keeps the first sample on a tie', () => {
    const list = instances('a', 'b');
    const draws = [0.9, 0];
    const balancer = powerOfTwoChoices(() => 3, () => draws.shift()!);
    expect(balancer.pick(list)?.id).toBe('b');
  });

  it('always samples two distinct candidates', () => {
    const list = instances('a', 'b', 'c', 'd');
    const sampled: string[][] = [];
    const loadOf = (id: string) => {
      sampled.at(-1)!.push(id);
      return 0;
    };
    const balancer = powerOfTwoChoices(loadOf);
    for (let i = 0; i < 500; i++) {
      sampled.push([]);
      balancer.pick(list);
    }
    for (const pair of sampled) {
      expect(pair).toHaveLength(2);
      expect(pair[0]).not.toBe(pair[1]);
    }
    // Every candidate is sampled sometimes, including the last one.
    expect(new Set(sampled.flat())).toEqual(new Set(['a', 'b', 'c', 'd']));
  });

  it('never picks the most loaded of many when its sample partner is idle', () => {
    const list = instances('busy', 'idle');
    const load: Record<string, number> = { busy: 10, idle: 0 };
    const balancer = powerOfTwoChoices((id) => load[id]!);
    for (let i = 0; i < 50; i++) expect(balancer.pick(list)?.id).toBe('idle');
  });

  it('handles zero and one candidates', () => {
    const balancer = powerOfTwoChoices(() => 0, () => 0.5);
    expect(balancer.pick([])).toBeUndefined();
    expect(balancer.pick(instances('only'))?.id).toBe('only');
  });
});
