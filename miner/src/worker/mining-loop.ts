import { setImmediate as nextTurn } from 'node:timers/promises';
import { backoffDelay, sleep, type BackoffOptions } from '@switchyard/infra';

export interface MiningLoopOptions {
  /** Iterations in flight at once (independent lanes). */
  concurrency: number;
  /** One iteration; any error it throws is caught here, never crashes the process. */
  iteration: () => Promise<void>;
  /** Called with each failure and how many failed in a row on that lane. */
  onError?: (error: unknown, consecutiveFailures: number) => void;
  /** Pause after a failed iteration, growing while the failures last. */
  backoff?: BackoffOptions;
}

/**
 * Runs `iteration` forever on `concurrency` lanes. A failing lane backs off (briefly, growing up
 * to a ceiling) so an outage does not spin the CPU, and goes back to full speed on success.
 */
export class MiningLoop {
  private readonly stopping = new AbortController();
  private lanes: Promise<void>[] = [];
  private active = 0;
  private failed = 0;

  constructor(private readonly options: MiningLoopOptions) {}

  /** Iterations currently running. */
  get inFlight(): number {
    return this.active;
  }

  /** Iterations that threw since start, on every lane together. */
  get failedIterations(): number {
    return this.failed;
  }

  get running(): boolean {
    return this.lanes.length > 0 && !this.stopping.signal.aborted;
  }

  start(): void {
    if (this.lanes.length > 0) return;
    for (let lane = 0; lane < this.options.concurrency; lane++) this.lanes.push(this.lane());
  }

  /**
   * Lets every lane finish the iteration it is in, then resolves; true if they all did within
   * `timeoutMs` (a lane still stuck after that is abandoned).
   */
  async stop(timeoutMs: number): Promise<boolean> {
    this.stopping.abort();
    const timer = new AbortController();
    const finished = await Promise.race([
      Promise.all(this.lanes).then(() => true),
      sleep(timeoutMs, timer.signal).then(() => false),
    ]);
    timer.abort();
    return finished;
  }

  private async lane(): Promise<void> {
    const backoff = this.options.backoff ?? { baseMs: 50, maxMs: 1_000 };
    let failures = 0;
    while (!this.stopping.signal.aborted) {
      this.active += 1;
      try {
        await this.options.iteration();
        failures = 0;
      } catch (error) {
        failures += 1;
        this.failed += 1;
        try {
          this.options.onError?.(error, failures);
        } catch {
          // A broken error reporter must not stop mining either.
        }
      } finally {
        this.active -= 1;
      }
      if (failures > 0) await sleep(backoffDelay(failures - 1, backoff), this.stopping.signal);
      // An iteration that settles without real I/O (e.g. answered from memory) must not turn
      // the lane into a microtask loop that starves timers, sockets and the other lanes.
      else await nextTurn();
    }
  }
}
