import { NoHealthyInstance, UpstreamTimeout, UpstreamUnavailable } from '@switchyard/infra';

export type Upstream = 'rng' | 'hasher';

/**
 * Why one mining iteration failed, from a fixed set (it becomes a metric label):
 * - all_ejected: instances are passing in Consul, but this worker's breakers ejected them all
 *   (they fail or are overloaded right now); for rng this is not a reason to fall back;
 * - no_healthy_instance: Consul lists none (for rng the local fallback answers instead);
 * - consul_unanswered: Consul has never answered this worker, so whether instances exist is
 *   unknown (no fallback: the worker backs off until discovery knows);
 * - upstream_timeout, upstream_unavailable: the ServiceClient's own verdicts after its retries;
 * - bad_answer: an answer that is not what the protocol promises (e.g. rng's 503 rng_overloaded).
 */
export type FailureReason =
  | 'all_ejected'
  | 'no_healthy_instance'
  | 'consul_unanswered'
  | 'upstream_timeout'
  | 'upstream_unavailable'
  | 'bad_answer'
  | 'other';

/** One iteration's failure, tagged with the call that failed and why. */
export class MiningFailure extends Error {
  override name = 'MiningFailure';
  constructor(
    readonly upstream: Upstream,
    readonly reason: FailureReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function failureReason(error: unknown): FailureReason {
  if (error instanceof NoHealthyInstance) {
    if (error.passingInConsul > 0) return 'all_ejected';
    return error.consulAnswered ? 'no_healthy_instance' : 'consul_unanswered';
  }
  if (error instanceof UpstreamTimeout) return 'upstream_timeout';
  if (error instanceof UpstreamUnavailable) return 'upstream_unavailable';
  return 'other';
}

/** Runs one upstream call; whatever it throws comes out as a MiningFailure naming `upstream`. */
export async function calling<T>(upstream: Upstream, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof MiningFailure) throw error;
    throw new MiningFailure(upstream, failureReason(error), `${upstream}: ${(error as Error).message}`, { cause: error });
  }
}
