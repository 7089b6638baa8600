import { describe, expect, it } from 'vitest';
import { isNewIndex, nextIndex } from './blocking-index.js';

describe('nextIndex', () => {
  it('advances to a forward or equal index (string header or number)', () => {
    expect(nextIndex(0, '42')).toEqual({ kind: 'advance', index: 42 });
    expect(nextIndex(42, '43')).toEqual({ kind: 'advance', index: 43 });
    expect(nextIndex(42, 42)).toEqual({ kind: 'advance', index: 42 });
    expect(nextIndex(10, 1_000)).toEqual({ kind: 'advance', index: 1_000 });
  });

  // An insane index must never be sent back: Consul answers a non-blocking read (0) or a stale
  // one (1) at once, and a loop fed that forever spins. The watcher backs off instead (go-kit).
  it.each([
    ['missing', undefined],
    ['null', null],
    ['empty', ''],
    ['not a number', 'abc'],
    ['partly a number', '12abc'],
    ['fractional', '1.5'],
    ['NaN', Number.NaN],
    ['infinite', Number.POSITIVE_INFINITY],
    ['beyond safe integers', '99999999999999999999'],
    ['zero', '0'],
    ['negative', '-7'],
  ])('calls a %s index insane', (_label, received) => {
    expect(nextIndex(42, received)).toEqual({ kind: 'insane' });
    expect(nextIndex(0, received)).toEqual({ kind: 'insane' });
  });

  it('resets when the index goes backwards, e.g. after an agent restart', () => {
    expect(nextIndex(100, '7')).toEqual({ kind: 'reset' });
    expect(nextIndex(100, 99)).toEqual({ kind: 'reset' });
  });
});

describe('isNewIndex', () => {
  it('treats the first answer as news', () => {
    expect(isNewIndex(0, 5)).toBe(true);
  });

  it('treats an unchanged index as a timed-out wait (no news)', () => {
    expect(isNewIndex(5, 5)).toBe(false);
  });

  it('treats any change as news', () => {
    expect(isNewIndex(5, 6)).toBe(true);
    expect(isNewIndex(5, 1)).toBe(true);
  });
});
