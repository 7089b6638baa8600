import { describe, expect, it } from 'vitest';
import { defaultQueueLimit } from './queue-limit.js';

describe('defaultQueueLimit', () => {
  it('queues about as long as callers wait (5 s)', () => {
    expect(defaultQueueLimit(100)).toBe(50);
    expect(defaultQueueLimit(50)).toBe(100);
    expect(defaultQueueLimit(1_000)).toBe(5);
  });

  it('allows one waiting request when one answer takes longer than callers wait', () => {
    expect(defaultQueueLimit(8_000)).toBe(1);
  });

  it('stays finite with no delay', () => {
    expect(defaultQueueLimit(0)).toBe(5_000);
  });
});
