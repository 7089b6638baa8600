import { describe, expect, it } from 'vitest';
import { isNewIndex, nextIndex } from './blocking-index.js';

describe('nextIndex', () => {
  it('takes a forward index as is (string header or number)', () => {
    expect(nextIndex(0, '42')).toBe(42);
    expect(nextIndex(42, '43')).toBe(43);
    expect(nextIndex(42, 42)).toBe(42);
    expect(nextIndex(10, 1_000)).toBe(1_000);
  });

  // Consul's guidance: an index that is not > 0 must not be sent back as 0 (index=0 is a
  // non-blocking read, so a loop fed 0 forever would spin); reset it to 1 instead.
  it.each([
    ['missing', undefined],
    ['null', null],
    ['empty', ''],
    ['not a number', 'abc'],
    ['NaN', Number.NaN],
    ['infinite', Number.POSITIVE_INFINITY],
    ['zero', '0'],
    ['negative', '-7'],
  ])('resets a %s index to 1 so the next query still blocks', (_label, received) => {
    expect(nextIndex(42, received)).toBe(1);
    expect(nextIndex(0, received)).toBe(1);
  });

  it('resets to 0 (one plain read) when the index goes backwards, e.g. after an agent restart', () => {
    expect(nextIndex(100, '7')).toBe(0);
    expect(nextIndex(100, 99)).toBe(0);
  });
});

describe('isNewIndex', () => {
  it('treats the first answer as news', () => {
    expect(isNewIndex(0, 5)).toBe(true);
    expect(isNewIndex(0, 0)).toBe(true);
  });

  it('treats an unchanged index as a timed-out wait (no news)', () => {
    expect(isNewIndex(5, 5)).toBe(false);
  });

  it('treats any change, forward or reset, as news', () => {
    expect(isNewIndex(5, 6)).toBe(true);
    expect(isNewIndex(5, 0)).toBe(true);
    expect(isNewIndex(5, 1)).toBe(true);
  });
});
