import type { Logger } from '../logger.js';
import type { ShutdownBudget } from './service-spec.js';

/**
 * One deadline shared by every shutdown step. Each step gets a budget cut from what is left, so a
 * slow step (a stop hook waiting on a dead Redis) shortens the ones after it instead of pushing
 * the whole shutdown past SHUTDOWN_TIMEOUT_MS, where the process would be killed mid-flush with
 * the drain and the trace flush skipped.
 */
export class ShutdownClock {
  private readonly deadline: number;

  constructor(
    totalMs: number,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    // Keep a little for process.exit and the last log lines.
    this.deadline = now() + Math.max(0, totalMs - 250);
  }

  /** Milliseconds left before the deadline, minus `reserveMs` kept for later steps. */
  left(reserveMs = 0): number {
    return Math.max(0, this.deadline - this.now() - reserveMs);
  }

  /**
   * Runs `work` with a budget of at most `budgetMs` (and never past the deadline minus
   * `reserveMs`). Resolves when the work settles or the budget is spent, whichever is first: a
   * failing or overrunning step is logged and the shutdown goes on.
   */
  async step(name: string, budgetMs: number, work: (budget: ShutdownBudget) => unknown, reserveMs = 0): Promise<void> {
    const budget = Math.min(budgetMs, this.left(reserveMs));
    const timer = new AbortController();
    let expire: NodeJS.Timeout | undefined;
    const spent = new Promise<'overran'>((resolve) => {
      expire = setTimeout(() => {
        timer.abort();
        resolve('overran');
      }, budget);
    });
    try {
      const outcome = await Promise.race([
        Promise.resolve()
          .then(() => work({ signal: timer.signal, budgetMs: budget }))
          .then(() => 'done' as const),
        spent,
      ]);
      if (outcome === 'overran') this.logger.error({ step: name, budgetMs: budget }, `shutdown: ${name} did not finish within its budget; going on`);
    } catch (error) {
      this.logger.error({ step: name, err: error }, `shutdown: ${name} failed; going on`);
    } finally {
      clearTimeout(expire);
    }
  }
}
