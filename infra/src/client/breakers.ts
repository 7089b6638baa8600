import CircuitBreaker from 'opossum';
import type { Logger } from 'pino';
import { breakerState } from '../metrics.js';
import type { InstanceEvidence } from './retry-policy.js';
import { upstreamEvents } from './upstream-events.js';

export interface BreakerOptions {
  /** Share of failed calls in the rolling window that opens the breaker. */
  errorThresholdPercentage: number;
  /** Calls needed in the window before the breaker may open (no verdict on one bad call). */
  volumeThreshold: number;
  /** How long an open breaker ejects its instance before one trial call (half-open). */
  resetTimeoutMs: number;
  rollingWindowMs: number;
  /**
   * Failing attempts in a row that open the breaker whatever the window holds. The share of the
   * rolling window is slow to turn when an instance goes bad after a long healthy spell (its
   * earlier successes dilute the new failures: measured ~7 s for answers that began to time out),
   * so, as Envoy's consecutive-5xx outlier detection, a run of failures ejects it at once.
   */
  consecutiveFailures: number;
}

export const defaultBreakerOptions: BreakerOptions = {
  errorThresholdPercentage: 50,
  volumeThreshold: 5,
  resetTimeoutMs: 5_000,
  rollingWindowMs: 10_000,
  consecutiveFailures: 5,
};

/** What a breaker runs: a function, or an object whose run() is called (no closure per call). */
export type Trial = (() => Promise<InstanceEvidence>) | { run(): Promise<InstanceEvidence> };

/** One instance's breaker and its run of failing attempts (see BreakerOptions.consecutiveFailures). */
interface Guard {
  breaker: CircuitBreaker<[Trial], void>;
  streak: number;
}

/** Thrown through opossum so it records a failure; never leaves this module. */
const FAILING = new Error('instance failing');
/** Thrown through opossum and filtered, so it records nothing against the instance; never leaves this module. */
const NO_EVIDENCE = new Error('no evidence');

/**
 * One opossum circuit breaker per upstream instance (Moleculer's per-endpoint model): a failing
 * instance is ejected locally, on this caller's own evidence, before Consul's check notices.
 */
export class InstanceBreakers {
  private readonly guards = new Map<string, Guard>();

  constructor(
    private readonly service: string,
    private readonly options: BreakerOptions = defaultBreakerOptions,
    private readonly logger?: Logger,
  ) {}

  /**
   * Runs `attempt` through the instance's breaker, which records the evidence it returns. False
   * when the breaker is open: the attempt did not run. An error `attempt` throws is passed on.
   */
  async run(instanceId: string, attempt: Trial): Promise<boolean> {
    const { breaker } = this.guardFor(instanceId);
    const trial = breaker.halfOpen;
    try {
      await breaker.fire(attempt);
      return true;
    } catch (error) {
      if (error === FAILING) return true;
      if (error === NO_EVIDENCE) {
        // opossum reports a filtered error as a success, which closes a half-open breaker
        // although its trial proved nothing (cancelled, cut short by the deadline): re-open it
        // so the next trial decides.
        if (trial && !breaker.opened) breaker.open();
        return true;
      }
      if ((error as { code?: string } | undefined)?.code === 'EOPENBREAKER') return false;
      throw error;
    }
  }

  /** Open breakers eject their instance; half-open ones let a trial call through. */
  isOpen(instanceId: string): boolean {
    const breaker = this.guards.get(instanceId)?.breaker;
    return breaker !== undefined && breaker.opened && !breaker.halfOpen;
  }

  state(instanceId: string): 'closed' | 'open' | 'half-open' {
    const breaker = this.guards.get(instanceId)?.breaker;
    if (!breaker || breaker.closed) return 'closed';
    return breaker.halfOpen ? 'half-open' : 'open';
  }

  /** Forgets breakers of instances that left the passing list, so their timers stop. */
  retain(instanceIds: Iterable<string>): void {
    const keep = new Set(instanceIds);
    for (const [id, { breaker }] of this.guards) {
      if (keep.has(id)) continue;
      breaker.shutdown();
      this.guards.delete(id);
      breakerState.remove({ service: this.service, instance: id });
    }
  }

  shutdown(): void {
    this.retain([]);
  }

  /**
   * The breaker's action: runs the attempt and turns its evidence into what opossum records (a
   * resolution is a success, FAILING a failure, NO_EVIDENCE nothing). One per breaker, so a call
   * makes no closure of its own.
   */
  private async judge(guard: Guard, attempt: Trial): Promise<void> {
    const evidence = await (typeof attempt === 'function' ? attempt() : attempt.run());
    if (evidence === 'healthy') {
      guard.streak = 0;
      return;
    }
    if (evidence === 'none') throw NO_EVIDENCE;
    // 'failing' or 'gone'
    guard.streak += 1;
    if (evidence === 'gone' || guard.streak >= (this.options.consecutiveFailures ?? Infinity)) {
      // Open first: the failure recorded next must not count towards a window of its own.
      const { breaker } = guard;
      if (!breaker.opened || breaker.halfOpen) breaker.open();
    }
    throw FAILING;
  }

  private guardFor(instanceId: string): Guard {
    const existing = this.guards.get(instanceId);
    if (existing) return existing;
    const guard = { streak: 0 } as Guard;
    guard.breaker = new CircuitBreaker((attempt: Trial) => this.judge(guard, attempt), {
      // The client enforces its own per-attempt timeout and aborts the request; a second timer
      // here would only race it.
      timeout: false,
      errorThresholdPercentage: this.options.errorThresholdPercentage,
      volumeThreshold: this.options.volumeThreshold,
      resetTimeout: this.options.resetTimeoutMs,
      rollingCountTimeout: this.options.rollingWindowMs,
      rollingCountBuckets: 10,
      // Only the counts of the window decide; opossum's latency percentiles (every latency of
      // the window kept, concatenated and sorted on each read, i.e. on every failure) and its
      // per-second snapshot of them are read by nobody here: measured per call in BENCHMARKS.md.
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
      // Attempts that say nothing about the instance's health (see InstanceEvidence).
      errorFilter: (error: unknown) => error === NO_EVIDENCE,
      name: `${this.service}/${instanceId}`,
    });
    const { breaker } = guard;
    const labels = { service: this.service, instance: instanceId };
    breakerState.set(labels, 0);
    // A failed trial re-opens a half-open breaker every resetTimeout: one "ejected" event for the
    // whole spell, not one per trial.
    let ejected = false;
    breaker.on('open', () => {
      breakerState.set(labels, 2);
      if (!ejected) upstreamEvents.record('ejected', this.service, instanceId);
      ejected = true;
      this.logger?.warn({ upstream: this.service, instance: instanceId }, `circuit opened: ejecting ${instanceId} locally`);
    });
    breaker.on('halfOpen', () => breakerState.set(labels, 1));
    breaker.on('close', () => {
      breakerState.set(labels, 0);
      if (ejected) upstreamEvents.record('back', this.service, instanceId);
      ejected = false;
      this.logger?.info({ upstream: this.service, instance: instanceId }, `circuit closed: ${instanceId} back in rotation`);
    });
    this.guards.set(instanceId, guard);
    return guard;
  }
}
