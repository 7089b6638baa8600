import type { AttemptFailure } from './errors.js';
import type { ResponseHeaders } from './transport.js';

/** What one attempt says about its instance; the instance's breaker records it. */
export type InstanceEvidence =
  /** The instance works (it answered, even with an application error): counts as a success. */
  | 'healthy'
  /** The instance is in trouble (unreachable, too slow, 502/503/504): counts as a failure. */
  | 'failing'
  /**
   * Nothing listens at the instance's address (its connection was refused): the process is gone
   * (crashed, `kill -9`ed) and Consul has not noticed yet. The breaker opens at once instead of
   * waiting for enough failures to fill its window; its half-open trial re-admits an instance
   * that was only restarting. (Envoy's outlier detection counts such local-origin connect
   * failures apart from the instance's answers for the same reason.)
   */
  | 'gone'
  /** Nothing learned (cancelled early, local saturation, back-pressure): not recorded. */
  | 'none';

/** One attempt's outcome, as the policy sees it: an answer (status and headers) or a failure. */
export interface AttemptReport {
  /** 1 for the first attempt of the call. */
  attempt: number;
  method: string;
  /** Whether the request may safely be sent twice (by method, or the request's `idempotent`). */
  idempotent: boolean;
  /** The instance's answer, when one arrived (its body is not read yet). */
  answer?: { status: number; headers: ResponseHeaders };
  /** Why no answer arrived, when none did. */
  failure?: AttemptFailure;
}

export interface Verdict {
  evidence: InstanceEvidence;
  /**
   * Whether to try another instance instead of ending the call with this outcome. The client
   * still retries only within `maxAttempts`, the retry budget and the deadline, and only while an
   * untried instance is left; otherwise this attempt's answer (or failure) is the call's.
   */
  retry: boolean;
}

/**
 * Decides, attempt by attempt, what an outcome says about the instance and whether the call keeps
 * trying (go-kit's `lb.RetryWithCallback`: a callback that sees each failure). Set one per client
 * (`ServiceClientOptions.retryPolicy`) or per call (`ServiceRequest.retryPolicy`, e.g. per route).
 */
export type RetryPolicy = (report: AttemptReport) => Verdict;

export interface StatusPolicyOptions {
  /** Statuses that mean "this instance is in trouble": counted by its breaker, retried if idempotent. */
  failureStatuses: readonly number[];
  /** Statuses that mean "busy, ask someone else": retried elsewhere if idempotent, never counted. */
  backPressureStatuses: readonly number[];
}

export const defaultStatusPolicy: StatusPolicyOptions = {
  // What a proxy or an overloaded instance answers; an application's own 500 or 501 is not here:
  // a request that provokes it would provoke it on every instance, so retrying it only multiplies
  // the load, and counting it would let one client eject every instance for everyone.
  failureStatuses: [502, 503, 504],
  backPressureStatuses: [429],
};

/**
 * A policy judging answers by status (see StatusPolicyOptions; any other status is the
 * instance's real answer, relayed as is) and failures by their kind: cancellations end the call,
 * a request that never left (refused, no connection) is retried whatever its method, others only
 * when idempotent.
 */
export function statusRetryPolicy(options: Partial<StatusPolicyOptions> = {}): RetryPolicy {
  const failing = new Set(options.failureStatuses ?? defaultStatusPolicy.failureStatuses);
  const busy = new Set(options.backPressureStatuses ?? defaultStatusPolicy.backPressureStatuses);
  return ({ answer, failure, idempotent }) => {
    if (answer) {
      if (failing.has(answer.status)) return { evidence: 'failing', retry: idempotent };
      // Retry-After is relayed with the answer if no other instance takes the call: waiting it out
      // here would outlast most deadlines.
      if (busy.has(answer.status)) return { evidence: 'none', retry: idempotent };
      return { evidence: 'healthy', retry: false };
    }
    if (!failure) return { evidence: 'healthy', retry: false };
    if (failure.kind === 'connection_error' && refused(failure.cause)) return { evidence: 'gone', retry: true };
    const evidence = failure.countsAgainstInstance ? 'failing' : 'none';
    switch (failure.kind) {
      case 'cancelled':
        return { evidence, retry: false };
      case 'pool_exhausted':
        // Our own pool to that instance is full: the request never left, another instance's pool may have room.
        return { evidence: 'none', retry: true };
      case 'response_too_large':
        // The same answer would come from any instance.
        return { evidence: 'healthy', retry: false };
      default:
        return { evidence, retry: idempotent || failure.notDelivered };
    }
  };
}

export const defaultRetryPolicy: RetryPolicy = statusRetryPolicy();

/** A connection refused: undici reports the system error code on the error or its cause. */
function refused(cause: unknown): boolean {
  const error = cause as { code?: string; cause?: { code?: string } } | undefined;
  return error?.code === 'ECONNREFUSED' || error?.cause?.code === 'ECONNREFUSED';
}
