import { INVALID_SPANID, INVALID_TRACEID } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { PooledIdGenerator } from './trace-ids.js';

describe('PooledIdGenerator', () => {
  it('draws lowercase hex ids of W3C trace context lengths, all distinct, across many refills of its pool', () => {
    const ids = new PooledIdGenerator();
    const traceIds = new Set<string>();
    const spanIds = new Set<string>();
    // 20 000 ids of 24 bytes on average: ~60 pools of 4 KiB.
    for (let i = 0; i < 10_000; i++) {
      const traceId = ids.generateTraceId();
      const spanId = ids.generateSpanId();
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(traceId).not.toBe(INVALID_TRACEID);
      expect(spanId).not.toBe(INVALID_SPANID);
      traceIds.add(traceId);
      spanIds.add(spanId);
    }
    expect(traceIds.size).toBe(10_000);
    expect(spanIds.size).toBe(10_000);
  });

  it('uses every hex digit about as often (the pool is random bytes, not a pattern)', () => {
    const ids = new PooledIdGenerator();
    const counts = new Map<string, number>();
    for (let i = 0; i < 5_000; i++) for (const digit of ids.generateTraceId()) counts.set(digit, (counts.get(digit) ?? 0) + 1);
    // 160 000 digits: 10 000 expected per digit; a fair source stays within a few hundred.
    expect(counts.size).toBe(16);
    for (const count of counts.values()) expect(Math.abs(count - 10_000)).toBeLessThan(1_000);
  });
});
