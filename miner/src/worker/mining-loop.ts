import { setImmediate as nextTurn } from 'node:timers/promises';
import { backoffDelay, sleep, type BackoffOptions } from '@switchyard/infra';

export interface MiningLoopOptions {
  /** Iterations in flight at once (independent lanes); change it later with resize(). */
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
  private target: number;
  /** Lanes still running (a lane retires between iterations while there are more than the target). */
  private live = 0;

  constructor(private readonly options: MiningLoopOptions) {
    this.target = options.concurrency;
  }

  /** Lanes running now (above the target only until the surplus finish their iteration). */
  get lanesRunning(): number {
    return this.live;
  }

  /** Lanes the loop aims for (running lanes above it retire after their current iteration). */
  get concurrency(): number {
    return this.target;
  }

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
    this.resize(this.target, true);
  }

  /**
   * Changes the number of lanes: new lanes start at once; surplus lanes finish the iteration
   * they are in and retire, so no iteration is cut short.
   */
  resize(concurrency: number, starting = false): void {
    this.target = Math.max(1, Math.floor(concurrency));
    if (!starting && this.lanes.length === 0) return; // applied by start()
    if (this.stopping.signal.aborted) return;
    while (this.live < this.target) {
      this.live += 1;
      this.lanes.push(this.lane());
    }
  }

  /** No lane starts another iteration; the ones running finish (see stop()). */
  requestStop(): void {
    this.stopping.abort();
  }

  /** True once stopping was requested: failures from then on are part of stopping. */
  get stopRequested(): boolean {
    return this.stopping.signal.aborted;
  }

  /**
   * Lets every lane finish the iteration it is in, then resolves; true if they all did within
   * `timeoutMs` (a lane still stuck after that is abandoned).
   */
  async stop(timeoutMs: number): Promise<boolean> {
    this.requestStop();
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
      if (this.live > this.target) {
        this.live -= 1;
        return;
      }
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
