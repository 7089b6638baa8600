/**
 * Trace and span ids cut from a pool of random hex. OpenTelemetry's RandomIdGenerator writes
 * Math.random() into a buffer and hex-encodes it for every id, a call into C++ each time; the
 * gateway draws two for every request (its root span's trace and span ids, sampled or not, since
 * the decision travels to the upstreams in them). Here one `randomBytes` call, hex-encoded once,
 * serves the next ~170 requests, and an id is a slice of that string. Measured at 1 connection:
 * ~0.7 µs less before the upstream write (BENCHMARKS.md, "Gateway hop").
 */
import { randomBytes } from 'node:crypto';
import { INVALID_SPANID, INVALID_TRACEID } from '@opentelemetry/api';
import type { IdGenerator } from '@opentelemetry/sdk-trace-base';

/** Random bytes drawn at a time: 8 KiB of hex. */
const POOL_BYTES = 4096;

export class PooledIdGenerator implements IdGenerator {
  private pool = '';
  private at = 0;
  private handedBack: string | undefined;

  /** 32 lowercase hex characters, never all zeros (W3C trace context's invalid id). */
  generateTraceId(): string {
    const handedBack = this.handedBack;
    if (handedBack !== undefined) {
      this.handedBack = undefined;
      return handedBack;
    }
    return this.take(32, INVALID_TRACEID);
  }

  /**
   * Makes `traceId`, drawn from this generator, the next one it gives: a root span sampled on
   * that id (tracing.ts, startRootSpan) is then made by the SDK under that very id. undefined
   * takes back an id not drawn.
   */
  handBack(traceId: string | undefined): void {
    this.handedBack = traceId;
  }

  /** 16 lowercase hex characters, never all zeros. */
  generateSpanId(): string {
    return this.take(16, INVALID_SPANID);
  }

  private take(length: number, invalid: string): string {
    for (;;) {
      if (this.at + length > this.pool.length) {
        this.pool = randomBytes(POOL_BYTES).toString('hex');
        this.at = 0;
      }
      const id = this.pool.slice(this.at, this.at + length);
      this.at += length;
      // All zeros (a chance in 2^64 at least) is not a valid id: the next one is.
      if (id !== invalid) return id;
    }
  }
}
