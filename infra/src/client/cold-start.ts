import { sleep } from '../backoff.js';
import { whenCancelled, type Cancellation } from '../cancellation.js';
import type { Instancer } from '../sd/instancer.js';

/**
 * A client's first calls on a cold start: while the registry has never answered this process,
 * they wait (once per client, shared by concurrent calls) for its first answer, never more than
 * half the call's deadline, so an unreachable registry yields a prompt 503 rather than a hang.
 */
export class ColdStart {
  private firstAnswer: Promise<unknown> | undefined;

  constructor(
    private readonly instancer: Instancer,
    private readonly discoveryTimeoutMs: number,
  ) {}

  /** Whether the registry has not answered yet (nothing known): then a call waits for it. */
  get pending(): boolean {
    return this.instancer.lastSyncAt === 0 && this.instancer.instances().length === 0;
  }

  async wait(deadline: number, signal?: Cancellation): Promise<void> {
    if (!this.pending) return;
    this.firstAnswer ??= this.instancer.ready(this.discoveryTimeoutMs);
    const done = new AbortController();
    const cancelled = signal ? whenCancelled(signal) : undefined;
    try {
      await Promise.race([this.firstAnswer, sleep((deadline - Date.now()) / 2, done.signal), ...(cancelled ? [cancelled.fired] : [])]);
    } finally {
      done.abort();
      cancelled?.stop();
    }
  }
}
