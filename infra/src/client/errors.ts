/** Base of every error a ServiceClient raises; the server layer maps each to an HTTP answer. */
export class UpstreamError extends Error {
  override name = 'UpstreamError';
  readonly status: number = 502;
  readonly code: string = 'upstream_error';
  constructor(
    readonly service: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** No passing instance (or every one has an open breaker): 503 no_healthy_instance. */
export class NoHealthyInstance extends UpstreamError {
  override name = 'NoHealthyInstance';
  override readonly status = 503;
  override readonly code = 'no_healthy_instance';
  constructor(
    service: string,
    message: string,
    /**
     * Instances Consul still lists as passing: 0 means the service is really gone; more means
     * this caller's breakers ejected them all (they fail or are overloaded right now).
     */
    readonly passingInConsul = 0,
    /** False while Consul has never answered this process: "none passing" is then unknown, not known. */
    readonly consulAnswered = true,
  ) {
    super(service, message);
  }
}

/** The caller gave up (its own client disconnected): nothing more is attempted. 499 as in nginx. */
export class RequestCancelled extends UpstreamError {
  override name = 'RequestCancelled';
  override readonly status = 499;
  override readonly code = 'client_closed_request';
}

/** The per-attempt timeout or the overall deadline ran out: 504 upstream_timeout. */
export class UpstreamTimeout extends UpstreamError {
  override name = 'UpstreamTimeout';
  override readonly status = 504;
  override readonly code = 'upstream_timeout';
}

/** Every attempt failed with a connection error or an answer the retry policy calls a failure: 502. */
export class UpstreamUnavailable extends UpstreamError {
  override name = 'UpstreamUnavailable';
  override readonly status = 502;
  override readonly code = 'upstream_unavailable';
}

/**
 * This process had no free connection to the upstream in time: its own pool is saturated (too
 * many calls in flight here), which says nothing about the upstream's health. 503 pool_exhausted.
 */
export class PoolExhausted extends UpstreamError {
  override name = 'PoolExhausted';
  override readonly status = 503;
  override readonly code = 'pool_exhausted';
}

/** The upstream's answer was larger than the caller agreed to buffer (`maxResponseBytes`): 502. */
export class ResponseTooLarge extends UpstreamError {
  override name = 'ResponseTooLarge';
  override readonly status = 502;
  override readonly code = 'upstream_response_too_large';
}

export type AttemptFailureKind =
  | 'timeout'
  | 'connection_error'
  | 'cancelled'
  /** No free connection of this process's pool in time: local saturation. */
  | 'pool_exhausted'
  | 'response_too_large'
  /** The instance answered with a status the retry policy treats as a failure (e.g. 503). */
  | 'server_error';

/** Why one attempt on one instance produced no usable answer; never escapes the client as is. */
export class AttemptFailure extends Error {
  override name = 'AttemptFailure';
  constructor(
    readonly kind: AttemptFailureKind,
    message: string,
    /** True when the request certainly never reached the instance (safe to retry anything). */
    readonly notDelivered: boolean,
    options?: { cause?: unknown; countsAgainstInstance?: boolean },
  ) {
    super(message, options);
    this.countsAgainstInstance = options?.countsAgainstInstance ?? true;
  }

  /**
   * False when the failure says nothing about the instance: the caller cancelled, or the deadline
   * cut the attempt, before the instance had half its normal attempt time; or the wait was for
   * this process's own pool. Later timeouts and cancellations do count: an instance that slow is
   * evidence of trouble. The retry policy reads this to decide what the breaker records.
   */
  readonly countsAgainstInstance: boolean;
}
