import { describe, expect, it } from 'vitest';
import { inOurStack } from './stack-names.js';

describe('inOurStack', () => {
  it('keeps the names with our suffix', () => {
    expect(inOurStack('rng-t-1-abc-2', '-t-1-abc-2')).toBe(true);
    expect(inOurStack('rng-t-1-abc-22', '-t-1-abc-2')).toBe(false);
    expect(inOurStack('rng', '-t-1-abc-2')).toBe(false);
  });

  it('without a suffix, leaves out the test stacks and consul itself', () => {
    expect(inOurStack('rng', '')).toBe(true);
    expect(inOurStack('rng-t-4242-lx9k2-3', '')).toBe(false);
    expect(inOurStack('consul', '')).toBe(false);
  });
});
