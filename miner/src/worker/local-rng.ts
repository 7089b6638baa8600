import { randomBytes } from 'node:crypto';
import { NoHealthyInstance, sleep, type Fallback } from '@switchyard/infra';
import { SerialQueue } from '../shared/serial-queue.js';

/**
 * Whether the worker may make its own random bytes: only when rng is really gone, i.e. Consul
 * answered this process and lists no passing rng instance at all.
 *
 * Before Consul has ever answered (a worker booting while Consul is unreachable), "no instance"
 * means "unknown", not "gone": mining locally then would report a healthy rng as dead and mine
 * at the fallback's pace. The worker backs off until discovery knows.
 *
 * When instances are passing but this worker's breakers ejected them all, rng is failing or
 * overloaded right now. Bypassing it then would turn rng overload into extra throughput, and
 * break the demo's lesson (more workers on one rng must not raise hashes/s). Timeouts and 5xx
 * answers are the same story. The worker backs off and retries instead (MiningLoop), and the
 * failure counts as an error, not as a fallback.
 */
export function mayUseLocalRng(error: unknown): boolean {
  return error instanceof NoHealthyInstance && error.consulAnswered && error.passingInConsul === 0;
}

/**
 * The rng client's fallback: when no rng instance exists any more, the worker generates the
 * bytes itself, as the dynamic microservices paper's server runs a task when no client can.
 * Any other failure is rethrown, which declines the fallback (see mayUseLocalRng).
 *
 * It imitates one rng instance (one at a time, `delayMs` each) on purpose: a fallback faster than
 * the real service would make mining speed up when every rng dies, hiding the outage in the
 * chart instead of showing it.
 */
export function localRngFallback(bytesPerHash: number, delayMs: number): Fallback {
  const generator = new SerialQueue();
  return async (error) => {
    if (!mayUseLocalRng(error)) throw error;
    const body = await generator.run(async () => {
      await sleep(delayMs);
      return randomBytes(bytesPerHash);
    });
    return { status: 200, headers: { 'content-type': 'application/octet-stream' }, body, fromFallback: true };
  };
}
