import { errors as undiciErrors } from 'undici';
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

/**
 * The two clocks of one attempt. First the wait for a connection, bounded by `poolTimeoutMs`:
 * when it runs out with every pooled connection busy, the cause is this process's own load and
 * never the instance's; with the pool not full, the instance did not accept a connection in time.
 * Then the attempt proper, timed from the moment a connection carries the request, so queueing
 * behind our own other calls never reads as a slow instance. `signal` aborts the request when
 * either runs out or the caller cancels.
 */
export class AttemptClock {
  private readonly controller = new AbortController();
  readonly signal = this.controller.signal;
  private timer: NodeJS.Timeout | undefined;
  private expiry: Expiry | undefined;
  private connectedAt: number | undefined;
  private poolWaitMs = 0;
  private attemptMs = 0;

  constructor(
    private readonly limits: AttemptLimits,
    private readonly callerSignal: AbortSignal | undefined,
    /** Whether every connection of the instance's pool is open and busy, asked when the wait runs out. */
    private readonly poolIsSaturated: () => boolean,
  ) {
    if (callerSignal?.aborted) this.expire('cancelled');
    // This object is the listener (handleEvent): no closure per attempt.
    else callerSignal?.addEventListener('abort', this, { once: true });
    this.poolWaitMs = Math.max(0, Math.min(limits.poolTimeoutMs, limits.deadline - Date.now()));
    if (!this.expiry) {
      this.timer = setTimeout(() => this.expire(this.poolIsSaturated() ? 'pool_saturated' : 'no_connection'), this.poolWaitMs);
    }
  }

  /** The request is on a connection: the attempt's own timer starts now. */
  connected(): void {
    if (this.connectedAt !== undefined || this.expiry) return;
    clearTimeout(this.timer);
    this.connectedAt = performance.now();
    this.attemptMs = Math.max(0, Math.min(this.limits.timeoutMs, this.limits.deadline - Date.now()));
    this.timer = setTimeout(() => this.expire('attempt'), this.attemptMs);
  }

  /** Stops both timers; the caller's cancellation still aborts (e.g. a streamed body being relayed). */
  stopTimers(): void {
    clearTimeout(this.timer);
  }

  /** The attempt is over: nothing aborts it any more. */
  release(): void {
    clearTimeout(this.timer);
    this.callerSignal?.removeEventListener('abort', this);
  }

  /** The caller's signal aborted. */
  handleEvent(): void {
    this.expire('cancelled');
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

  private expire(reason: Expiry): void {
    if (this.expiry) return;
    this.expiry = reason;
    clearTimeout(this.timer);
    this.controller.abort(new Error(`attempt aborted: ${reason}`));
  }
}

function connectionFailure(error: unknown, instance: Instance): AttemptFailure {
  const code = (error as { code?: string } | undefined)?.code;
  // Refused or never connected: the request certainly did not reach the instance.
  const notDelivered =
    code === 'ECONNREFUSED' || code === 'UND_ERR_CONNECT_TIMEOUT' || error instanceof undiciErrors.ConnectTimeoutError;
  const reason = error instanceof Error ? error.message : String(error);
  return new AttemptFailure('connection_error', `${instance.id}: ${code ?? reason}`, notDelivered, { cause: error });
}
