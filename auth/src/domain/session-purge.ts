import { sleep, type Logger } from '@switchyard/infra';

/** Where expired refresh tokens and the sessions they leave empty are deleted (store/sessions.ts). */
export interface ExpiredSessionStore {
  /** Deletes at most `limit` refresh tokens that expired before `expiredBefore`; how many went. */
  deleteExpiredTokens(expiredBefore: number, limit: number): Promise<number>;
  /** Deletes at most `limit` sessions created before `createdBefore` that hold no refresh token; how many went. */
  deleteEmptySessions(createdBefore: number, limit: number): Promise<number>;
}

export interface PurgePolicy {
  /** Time between passes (each instance, from a random start: instances spread their passes). */
  everyMs: number;
  /**
   * How long an expired refresh token is kept. While kept, a rotated one presented again still
   * revokes its family (theft detection: someone held a copy); once deleted it is an unknown
   * token, refused the same (401) without revoking anything.
   */
  keepExpiredMs: number;
  /** Rows per DELETE: short statements, so a pass never holds many row locks at once. */
  batch: number;
}

export interface PurgeCount {
  tokens: number;
  sessions: number;
}

/**
 * Deletes what no request can use any more: refresh tokens past their expiry (plus the kept
 * margin), then the sessions left without a token. Without it every sign-in and every refresh
 * (a new token each time, the traded one kept for theft detection) adds a row for good.
 * Every auth instance runs it; the passes are idempotent, so two overlapping ones only share the work.
 */
export class SessionPurge {
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: ExpiredSessionStore,
    private readonly policy: PurgePolicy,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}

  /** One pass: batches of each kind until one comes back short (or `stop` aborted). */
  async runOnce(stop?: AbortSignal): Promise<PurgeCount> {
    const before = this.clock() - this.policy.keepExpiredMs;
    const tokens = await this.drain((limit) => this.store.deleteExpiredTokens(before, limit), stop);
    // Tokens first: a session is empty once its last token went, in this pass or an earlier one.
    const sessions = await this.drain((limit) => this.store.deleteEmptySessions(before, limit), stop);
    return { tokens, sessions };
  }

  /** Passes every `everyMs`, the first at a random point of the first interval, until `stop` aborts. */
  start(stop: AbortSignal): void {
    this.running ??= this.loop(stop);
  }

  /** Resolves once the loop ended (after `stop` aborted: the pass under way finishes its batch). */
  stopped(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async loop(stop: AbortSignal): Promise<void> {
    let wait = this.random() * this.policy.everyMs;
    for (;;) {
      await sleep(wait, stop);
      if (stop.aborted) return;
      try {
        const count = await this.runOnce(stop);
        if (count.tokens > 0 || count.sessions > 0) this.logger.info(count, 'sessions: expired refresh tokens and empty sessions deleted');
      } catch (error) {
        // The next pass tries again; nothing is lost by waiting.
        this.logger.warn({ err: (error as Error).message }, 'sessions: purging expired refresh tokens failed; retrying at the next pass');
      }
      wait = this.policy.everyMs;
    }
  }

  private async drain(deleteBatch: (limit: number) => Promise<number>, stop?: AbortSignal): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await deleteBatch(this.policy.batch);
      total += deleted;
      if (deleted < this.policy.batch || stop?.aborted) return total;
    }
  }
}
