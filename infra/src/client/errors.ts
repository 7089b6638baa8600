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

/** Every attempt failed with a connection error or a 5xx: 502 upstream_unavailable. */
export class UpstreamUnavailable extends UpstreamError {
  override name = 'UpstreamUnavailable';
  override readonly status = 502;
  override readonly code = 'upstream_unavailable';
}

/** Thrown inside an attempt so the breaker counts it; never escapes the client as is. */
export class AttemptFailure extends Error {
  override name = 'AttemptFailure';
  constructor(
    readonly kind: 'timeout' | 'connection_error' | 'server_error' | 'cancelled',
    message: string,
    /** True when the request certainly never reached the instance (safe to retry anything). */
    readonly notDelivered: boolean,
    readonly response?: { status: number; headers: Record<string, string | string[]>; body: Buffer },
    options?: { cause?: unknown; countsAgainstInstance?: boolean },
  ) {
    super(message, options);
    this.countsAgainstInstance = options?.countsAgainstInstance ?? true;
  }

  /**
   * False when the failure says nothing about the instance: the caller cancelled, or the deadline
   * cut the attempt, before the instance had half its normal attempt time. Such failures do not
   * trip breakers; later ones do, since an instance that slow is evidence of trouble.
   */
  readonly countsAgainstInstance: boolean;
}
