import { randomBytes } from 'node:crypto';
import { NoHealthyInstance, sleep, type Fallback } from '@switchyard/infra';
import { SerialQueue } from '../shared/serial-queue.js';

/**
 * The rng client's fallback: when no rng instance is healthy (none passing in Consul, or every
 * one ejected by its breaker), the worker generates the bytes itself, as the dynamic
 * microservices paper's server runs a task when no client can.
 *
 * It imitates one rng instance (one at a time, `delayMs` each) on purpose: a fallback faster than
 * the real service would make mining speed up when every rng dies, hiding the outage in the
 * chart instead of showing it. Other failures (timeouts, 5xx) are not a reason to bypass rng:
 * they are rethrown, and the worker backs off.
 */
export function localRngFallback(bytesPerHash: number, delayMs: number): Fallback {
  const generator = new SerialQueue();
  return async (error) => {
    if (!(error instanceof NoHealthyInstance)) throw error;
    const body = await generator.run(async () => {
      await sleep(delayMs);
      return randomBytes(bytesPerHash);
    });
    return { status: 200, headers: { 'content-type': 'application/octet-stream' }, body, fromFallback: true };
  };
}
