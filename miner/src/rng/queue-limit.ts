/**
 * The longest its callers wait for rng: the worker's default rng timeout (WORKER_RNG_TIMEOUT_MS).
 * A request queued longer than that is answered to a caller that already gave up.
 */
export const CALLER_TIMEOUT_MS = 5_000;

/**
 * Default RNG_QUEUE_LIMIT: as many waiting requests as the instance serves within the callers'
 * timeout (50 at 100 ms ≈ 5 s of queue). Past it, a new request is refused at once with 503
 * rng_overloaded, which the caller can act on (its breaker ejects the instance, it backs off),
 * instead of timing out after 5 s. A fixed limit of 1000 meant 100 s of queue at 100 ms: the 503
 * could never fire before every caller had timed out.
 */
export function defaultQueueLimit(delayMs: number): number {
  return Math.max(1, Math.floor(CALLER_TIMEOUT_MS / Math.max(1, delayMs)));
}
