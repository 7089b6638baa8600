import CircuitBreaker from 'opossum';
import type { Logger } from 'pino';
import { breakerState } from '../metrics.js';
import { AttemptFailure } from './errors.js';

export interface BreakerOptions {
  /** Share of failed calls in the rolling window that opens the breaker. */
  errorThresholdPercentage: number;
  /** Calls needed in the window before the breaker may open (no verdict on one bad call). */
  volumeThreshold: number;
  /** How long an open breaker ejects its instance before one trial call (half-open). */
  resetTimeoutMs: number;
  rollingWindowMs: number;
}

export const defaultBreakerOptions: BreakerOptions = {
  errorThresholdPercentage: 50,
  volumeThreshold: 5,
  resetTimeoutMs: 5_000,
  rollingWindowMs: 10_000,
};

type Attempt = () => Promise<unknown>;

/**
 * One opossum circuit breaker per upstream instance (Moleculer's per-endpoint model): a failing
 * instance is ejected locally, on this caller's own evidence, before Consul's check notices.
 */
export class InstanceBreakers {
  private readonly breakers = new Map<string, CircuitBreaker<[Attempt], unknown>>();

  constructor(
    private readonly service: string,
    private readonly options: BreakerOptions = defaultBreakerOptions,
    private readonly logger?: Logger,
  ) {}

  /** Runs `attempt` through the instance's breaker; rejects at once while the breaker is open. */
  async fire<T>(instanceId: string, attempt: () => Promise<T>): Promise<T> {
    const breaker = this.breakerFor(instanceId);
    const trial = breaker.halfOpen;
    try {
      return (await breaker.fire(attempt)) as T;
    } catch (error) {
      // opossum reports a filtered error (cancelled, or cut short by the deadline) as a success,
      // which would close a half-open breaker although its trial call proved nothing: re-open it
      // so the next trial decides.
      if (trial && error instanceof AttemptFailure && !error.countsAgainstInstance && !breaker.opened) breaker.open();
      throw error;
    }
  }

  /** Open breakers eject their instance; half-open ones let a trial call through. */
  isOpen(instanceId: string): boolean {
    const breaker = this.breakers.get(instanceId);
    return breaker !== undefined && breaker.opened && !breaker.halfOpen;
  }

  state(instanceId: string): 'closed' | 'open' | 'half-open' {
    const breaker = this.breakers.get(instanceId);
    if (!breaker || breaker.closed) return 'closed';
    return breaker.halfOpen ? 'half-open' : 'open';
  }

  /** Forgets breakers of instances that left the passing list, so their timers stop. */
  retain(instanceIds: Iterable<string>): void {
    const keep = new Set(instanceIds);
    for (const [id, breaker] of this.breakers) {
      if (keep.has(id)) continue;
      breaker.shutdown();
      this.breakers.delete(id);
      breakerState.remove({ service: this.service, instance: id });
    }
  }

  shutdown(): void {
    this.retain([]);
  }

  private breakerFor(instanceId: string): CircuitBreaker<[Attempt], unknown> {
    let breaker = this.breakers.get(instanceId);
    if (breaker) return breaker;
    breaker = new CircuitBreaker((attempt: Attempt) => attempt(), {
      // The client enforces its own per-attempt timeout and aborts the request; a second timer
      // here would only race it.
      timeout: false,
      errorThresholdPercentage: this.options.errorThresholdPercentage,
      volumeThreshold: this.options.volumeThreshold,
      resetTimeout: this.options.resetTimeoutMs,
      rollingCountTimeout: this.options.rollingWindowMs,
      rollingCountBuckets: 10,
      // Cancelled calls and deadline-shortened attempts say nothing about the instance's health.
      errorFilter: (error: unknown) => error instanceof AttemptFailure && !error.countsAgainstInstance,
      name: `${this.service}/${instanceId}`,
    });
    const labels = { service: this.service, instance: instanceId };
    breakerState.set(labels, 0);
    breaker.on('open', () => {
      breakerState.set(labels, 2);
      this.logger?.warn({ upstream: this.service, instance: instanceId }, `circuit opened: ejecting ${instanceId} locally`);
    });
    breaker.on('halfOpen', () => breakerState.set(labels, 1));
    breaker.on('close', () => {
      breakerState.set(labels, 0);
      this.logger?.info({ upstream: this.service, instance: instanceId }, `circuit closed: ${instanceId} back in rotation`);
    });
    this.breakers.set(instanceId, breaker);
    return breaker;
  }
}
