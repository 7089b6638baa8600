import { errors as undiciErrors } from './undici-parts.js';
import type { Cancellation } from '../cancellation.js';
import type { Instance } from '../sd/instance.js';
import { AttemptFailure } from './errors.js';

export interface AttemptLimits {
  /** How long the request may wait for a connection (a free one of the pool, or a new one). */
  poolTimeoutMs: number;
  /** How long the attempt may take once a connection carries it. */
  timeoutMs: number;
  /** The call's deadline (epoch ms): neither wait runs past it. */
  deadline: number;
  /**
   * A cancellation, or a timeout the deadline shortened, counts against the instance only once
   * the attempt has run this long (half the normal attempt timeout): sooner, it proves nothing.
   */
  evidenceAfterMs: number;
}

type Expiry = 'pool_saturated' | 'no_connection' | 'attempt' | 'cancelled';

/** What a clock stops: the request of one attempt. */
export interface AttemptTarget {
  /** Stops the request with `reason` (called at most once). */
  abort(reason: Error): void;
  /** Whether every pooled connection to the instance is busy with this process's own calls (asked when the wait for one runs out). */
  poolIsSaturated(): boolean;
}

/** A body that destroy() stops (undici's, once the answer's headers arrived). */
interface Destroyable {
  destroyed: boolean;
  destroy(error?: Error): unknown;
  on(event: 'error', listener: () => void): unknown;
}

/**
 * The two clocks of one attempt. First the wait for a connection, bounded by `poolTimeoutMs`:
 * when it runs out with every pooled connection busy, the cause is this process's own load and
 * never the instance's; with the pool not full, the instance did not accept a connection in time.
 * Then the attempt proper, timed from the moment a connection carries the request, so queueing
 * behind our own other calls never reads as a slow instance. The target's request is aborted
 * when either runs out or the caller cancels.
 *
 * One Node timer serves both clocks: an attempt usually ends long before either runs out, so the
 * pool wait's timer is kept when the request reaches a connection, and re-armed for what is left
 * of the attempt only should it fire first.
 */
export class AttemptClock {
  private target: AttemptTarget | undefined;
  private body: Destroyable | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** performance.now() when the timer is due. */
  private timerDueAt = 0;
  private expiry: Expiry | undefined;
  /** Why the request was aborted, once it was. */
  reason: Error | undefined;
  private connectedAt: number | undefined;
  private attemptEndsAt = 0;
  private poolWaitMs = 0;
  private attemptMs = 0;

  constructor(
    private readonly limits: AttemptLimits,
    private readonly callerSignal: Cancellation | undefined,
  ) {
    if (callerSignal?.aborted) {
      this.expire('cancelled');
      return;
    }
    // This object is the listener (handleEvent): no closure per attempt.
    callerSignal?.addEventListener('abort', this, { once: true });
    this.poolWaitMs = Math.max(0, Math.min(limits.poolTimeoutMs, limits.deadline - Date.now()));
    this.arm(this.poolWaitMs);
  }

  /** The request the clock aborts; aborted at once if the clock already ran out. */
  attach(target: AttemptTarget): void {
    this.target = target;
    if (this.reason) target.abort(this.reason);
  }

  /** The answer's body: from now on, running out (or a cancellation) destroys it. */
  holdBody(body: Destroyable): void {
    this.body = body;
    if (this.reason) destroyQuietly(body, this.reason);
  }

  /** The request is on a connection: the attempt's own time starts now. */
  connected(): void {
    if (this.connectedAt !== undefined || this.expiry) return;
    this.connectedAt = performance.now();
    this.attemptMs = Math.max(0, Math.min(this.limits.timeoutMs, this.limits.deadline - Date.now()));
    this.attemptEndsAt = this.connectedAt + this.attemptMs;
    // The pool wait's timer fires before the attempt runs out: kept, it re-arms itself then.
    if (this.timer !== undefined && this.timerDueAt <= this.attemptEndsAt) return;
    clearTimeout(this.timer);
    this.arm(this.attemptMs);
  }

  /** Stops both timers; the caller's cancellation still aborts (e.g. a streamed body being relayed). */
  stopTimers(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The attempt is over: nothing aborts it any more. */
  release(): void {
    this.stopTimers();
    this.body = undefined;
    this.callerSignal?.removeEventListener('abort', this);
  }

  /** The caller's signal aborted. */
  handleEvent(): void {
    this.expire('cancelled');
  }

  /** The timer fired: the pool wait ran out, or the attempt did (or goes on: re-armed). */
  timerFired(): void {
    this.timer = undefined;
    if (this.connectedAt === undefined) {
      this.expire(this.target?.poolIsSaturated() ? 'pool_saturated' : 'no_connection');
      return;
    }
    const left = this.attemptEndsAt - performance.now();
    if (left >= 1) this.arm(Math.ceil(left));
    else this.expire('attempt');
  }

  /** The AttemptFailure an error of this attempt stands for, judged by which clock (if any) ran out. */
  classify(error: unknown, instance: Instance): AttemptFailure {
    const cause = { cause: error };
    const sinceConnected = this.connectedAt === undefined ? 0 : performance.now() - this.connectedAt;
    switch (this.expiry) {
      case 'cancelled':
        return new AttemptFailure('cancelled', `the caller cancelled the call to ${instance.id}`, this.connectedAt === undefined, {
          ...cause,
          countsAgainstInstance: sinceConnected >= this.limits.evidenceAfterMs,
        });
      case 'pool_saturated':
        return new AttemptFailure(
          'pool_exhausted',
          `no free connection to ${instance.id} within ${Math.round(this.poolWaitMs)} ms: every pooled connection is busy with this process's own calls`,
          true,
          { ...cause, countsAgainstInstance: false },
        );
      case 'no_connection':
        return new AttemptFailure('connection_error', `${instance.id}: no connection within ${Math.round(this.poolWaitMs)} ms`, true, {
          ...cause,
          countsAgainstInstance: this.poolWaitMs >= this.limits.evidenceAfterMs,
        });
      case 'attempt':
        return new AttemptFailure('timeout', `${instance.id} did not answer within ${Math.round(this.attemptMs)} ms`, false, {
          ...cause,
          countsAgainstInstance: this.attemptMs >= this.limits.evidenceAfterMs,
        });
      default:
        return connectionFailure(error, instance);
    }
  }

  private arm(ms: number): void {
    this.timerDueAt = performance.now() + ms;
    this.timer = setTimeout(fire, ms, this);
  }

  private expire(reason: Expiry): void {
    if (this.expiry) return;
    this.expiry = reason;
    this.stopTimers();
    this.reason = new Error(`attempt aborted: ${reason}`);
    // As undici does for an aborted signal: once there is a body, destroying it aborts what is
    // left of the request.
    if (this.body) destroyQuietly(this.body, this.reason);
    else this.target?.abort(this.reason);
  }
}

function fire(clock: AttemptClock): void {
  clock.timerFired();
}

function destroyQuietly(body: Destroyable, reason: Error): void {
  if (body.destroyed) return;
  body.on('error', ignore);
  body.destroy(reason);
}

function ignore(): void {}

function connectionFailure(error: unknown, instance: Instance): AttemptFailure {
  const code = (error as { code?: string } | undefined)?.code;
  // Refused or never connected: the request certainly did not reach the instance.
  const notDelivered =
    code === 'ECONNREFUSED' || code === 'UND_ERR_CONNECT_TIMEOUT' || error instanceof undiciErrors.ConnectTimeoutError;
  const reason = error instanceof Error ? error.message : String(error);
  return new AttemptFailure('connection_error', `${instance.id}: ${code ?? reason}`, notDelivered, { cause: error });
}
