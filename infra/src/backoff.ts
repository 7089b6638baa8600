import type { Cancellation } from './cancellation.js';

export interface BackoffOptions {
  /** Delay of the first retry before jitter. */
  baseMs: number;
  /** Ceiling the exponential growth never passes. */
  maxMs: number;
  factor?: number;
}

/**
 * Exponential backoff with "equal jitter": half of the exponential delay is fixed and half is
 * random. The fixed half keeps a flapping dependency from being hammered (go-kit's watcher spun
 * at 100 % CPU without it), the random half keeps many instances from retrying in lockstep.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const factor = options.factor ?? 2;
  const exponential = Math.min(options.maxMs, options.baseMs * factor ** Math.max(0, attempt));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}

/** Resolves after `ms`, or at once when `signal` aborts (without rejecting). */
export function sleep(ms: number, signal?: Cancellation): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
