export interface RetryBudgetOptions {
  /** Retries allowed as a share of requests in the window (Finagle and Envoy use 0.2). */
  ratio: number;
  /** Retries always allowed per second, so a quiet client can still retry. */
  minPerSecond: number;
  windowMs: number;
}

export const defaultRetryBudget: RetryBudgetOptions = { ratio: 0.2, minPerSecond: 3, windowMs: 10_000 };

/**
 * A sliding-window retry budget. Retries beyond `ratio × requests + minPerSecond × window` are
 * refused, so when an upstream is broken the retries cannot multiply the load on the survivors
 * (a retry storm). Counts are kept per one-second bucket, so memory stays constant.
 */
export class RetryBudget {
  private readonly buckets = new Map<number, { requests: number; retries: number }>();

  constructor(
    private readonly options: RetryBudgetOptions = defaultRetryBudget,
    private readonly now: () => number = Date.now,
  ) {}

  recordRequest(): void {
    this.bucket().requests += 1;
  }

  /** Takes one retry from the budget if there is room; false means "do not retry". */
  tryAcquire(): boolean {
    const { requests, retries } = this.totals();
    const allowed = this.options.ratio * requests + this.options.minPerSecond * (this.options.windowMs / 1000);
    if (retries + 1 > allowed) return false;
    this.bucket().retries += 1;
    return true;
  }

  private bucket() {
    const second = Math.floor(this.now() / 1000);
    let bucket = this.buckets.get(second);
    if (!bucket) {
      bucket = { requests: 0, retries: 0 };
      this.buckets.set(second, bucket);
      this.evict(second);
    }
    return bucket;
  }

  private totals() {
    this.evict(Math.floor(this.now() / 1000));
    let requests = 0;
    let retries = 0;
    for (const bucket of this.buckets.values()) {
      requests += bucket.requests;
      retries += bucket.retries;
    }
    return { requests, retries };
  }

  private evict(currentSecond: number): void {
    const oldest = currentSecond - Math.ceil(this.options.windowMs / 1000) + 1;
    for (const second of this.buckets.keys()) if (second < oldest) this.buckets.delete(second);
  }
}
