/**
 * A shared (Redis) rate limit without a Redis round trip per request: an instance takes a key's
 * allowance from the store in leases of a few points (one `consume(key, n)`, counted in Redis at
 * once) and admits that many requests from memory. The count in Redis stays the one every
 * instance reads, so no instance ever admits past the shared allowance; the price is on the other
 * side: points leased but not yet used by an instance count as used, so a client spreading its
 * calls over N instances may be refused up to N × (lease - 1) requests early in a window. A
 * lease is 1 % of the allowance (the default 6 000/min per client: 60 points, one round trip per
 * 60 requests); allowances under 200 lease one point at a time, exactly as counting every
 * request in Redis does.
 */
import type { RateLimiterAbstract, RateLimiterRes } from '@switchyard/infra';

/** What a refusal says: when the window frees a request. */
export class AllowanceSpent extends Error {
  constructor(readonly msBeforeNext: number) {
    super('allowance spent');
  }
}

interface Lease {
  /** Points of this lease not handed out yet. */
  left: number;
  /** Epoch ms at which the store's window (and so the lease) ends. */
  until: number;
  /** The store said the allowance is spent: refuse from memory until `until`. */
  spent: boolean;
  /** Points the store had left after this lease: the next lease takes no more. */
  storeLeft: number;
  /** The lease being taken; requests arriving meanwhile wait for it rather than asking again. */
  taking?: Promise<void>;
}

export interface LeasedAllowanceOptions {
  /** The allowance per window. */
  points: number;
  /** Points taken per round trip (default 1 % of `points`, at least 1). */
  leaseSize?: number;
  /** The window's length, to forget leases whose window is over. */
  windowMs: number;
}

export class LeasedAllowance {
  private readonly leases = new Map<string, Lease>();
  private readonly leaseSize: number;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly store: RateLimiterAbstract,
    private readonly options: LeasedAllowanceOptions,
  ) {
    this.leaseSize = Math.max(1, options.leaseSize ?? Math.floor(options.points / 100));
    // Leases of clients gone quiet would otherwise stay forever: one pass per window drops the ended ones.
    this.sweeper = setInterval(() => this.sweep(), options.windowMs);
    this.sweeper.unref();
  }

  /**
   * Counts one request of `key`: undefined when a lease in hand admitted it (no await on the hot
   * path), otherwise a promise settled once the store answered; AllowanceSpent when refused.
   */
  consume(key: string): Promise<void> | undefined {
    const lease = this.leases.get(key);
    const now = Date.now();
    if (lease && lease.until > now) {
      if (lease.left > 0) {
        lease.left -= 1;
        return undefined;
      }
      if (lease.spent) throw new AllowanceSpent(lease.until - now);
      if (lease.taking) return lease.taking.then(() => this.consume(key));
    }
    return this.take(key, lease && lease.until > now ? lease : undefined);
  }

  close(): void {
    clearInterval(this.sweeper);
    this.leases.clear();
  }

  private take(key: string, current: Lease | undefined): Promise<void> {
    // Within a window, never ask for more than the store had left: the rest would be refused anyway.
    const size = Math.max(1, Math.min(this.leaseSize, current ? current.storeLeft : this.leaseSize));
    const taking = this.store.consume(key, size).then(
      (res) => {
        this.leases.set(key, { left: size - 1, until: Date.now() + res.msBeforeNext, spent: false, storeLeft: res.remainingPoints });
      },
      (rejection: unknown) => {
        if (!isVerdict(rejection)) {
          this.leases.delete(key);
          throw rejection;
        }
        // Past the allowance: the part of this lease that still fitted was counted, and is handed out.
        const before = rejection.consumedPoints - size;
        const granted = rejection.consumedPoints >= size ? Math.max(0, Math.min(size, this.options.points - before)) : 0;
        const until = Date.now() + rejection.msBeforeNext;
        this.leases.set(key, { left: Math.max(0, granted - 1), until, spent: true, storeLeft: 0 });
        if (granted === 0) throw new AllowanceSpent(rejection.msBeforeNext);
      },
    );
    // Requests arriving before the store answers wait for this lease instead of asking again.
    const placeholder: Lease = current ?? { left: 0, until: Date.now() + this.options.windowMs, spent: false, storeLeft: size };
    placeholder.taking = taking.then(
      () => undefined,
      () => undefined,
    );
    if (!current) this.leases.set(key, placeholder);
    return taking;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, lease] of this.leases) if (lease.until <= now && !lease.taking) this.leases.delete(key);
  }
}

function isVerdict(value: unknown): value is RateLimiterRes {
  return typeof value === 'object' && value !== null && 'msBeforeNext' in value && 'consumedPoints' in value;
}
