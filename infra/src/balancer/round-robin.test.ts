import { describe, expect, it } from 'vitest';
import { roundRobin } from './round-robin.js';
import { instances } from './test-support.js';

describe('roundRobin', () => {
  it('visits the candidates in turn', () => {
    const balancer = roundRobin();
    const list = instances('a', 'b', 'c');
    const picks = Array.from({ length: 7 }, () => balancer.pick(list)?.id);
    expect(picks).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a']);
  });

  it('is exactly fair: 30 picks over 3 candidates give 10 each', () => {
    const balancer = roundRobin();
    const list = instances('a', 'b', 'c');
    const counts = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      const id = balancer.pick(list)!.id;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    expect(Object.fromEntries(counts)).toEqual({ a: 10, b: 10, c: 10 });
  });

  it('never picks a candidate that left the list, and keeps alternating among the rest', () => {
    const balancer = roundRobin();
    const all = instances('a', 'b', 'c');
    expect(balancer.pick(all)?.id).toBe('a');
    const withoutB = all.filter((i) => i.id !== 'b');
    const picks = Array.from({ length: 6 }, () => balancer.pick(withoutB)?.id);
    expect(picks).not.toContain('b');
    // Strict alternation between the two survivors.
    for (let i = 1; i < picks.length; i++) expect(picks[i]).not.toBe(picks[i - 1]);
  });

  it('returns undefined for an empty list', () => {
    expect(roundRobin().pick([])).toBeUndefined();
  });

  it('honours a start offset', () => {
    expect(roundRobin(2).pick(instances('a', 'b', 'c'))?.id).toBe('c');
  });
});

describe('roundRobin when the candidate list changes between calls', () => {
  it('continues after the last pick when a retry excludes the instance it just tried', () => {
    const balancer = roundRobin();
    const all = instances('a', 'b', 'c');
    expect(balancer.pick(all)?.id).toBe('a');
    expect(balancer.pick(all)?.id).toBe('b');
    // b failed; the retry excludes it and must go on to c, not back to a.
    expect(balancer.pick(all.filter((i) => i.id !== 'b'))?.id).toBe('c');
    expect(balancer.pick(all)?.id).toBe('a');
  });

  it('gives a newly joined instance its turn in id order', () => {
    const balancer = roundRobin();
    expect(balancer.pick(instances('a', 'c'))?.id).toBe('a');
    expect(balancer.pick(instances('a', 'b', 'c'))?.id).toBe('b');
    expect(balancer.pick(instances('a', 'b', 'c'))?.id).toBe('c');
  });

  it('does not depend on the order the list arrives in', () => {
    const balancer = roundRobin();
    const picks = Array.from({ length: 6 }, () => balancer.pick(instances('c', 'a', 'b'))?.id);
    expect(picks).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });
});
