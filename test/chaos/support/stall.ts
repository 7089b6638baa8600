/**
 * A stalled process, the way a long GC pause, CPU starvation or a host stealing the VM's CPU
 * stalls one: SIGSTOP, SIGCONT a moment later, repeated. While stopped, the kernel still accepts
 * connections and takes the bytes sent to it, so callers see no error, only an answer that does
 * not come (the slow instance the breakers and attempt timeouts are for), and its own health
 * endpoint stalls with it.
 */
import type { Running } from '../../support/isolated-stack.js';

export interface StallPattern {
  /** How long each stall lasts. */
  stoppedMs: number;
  /** How long the process runs between two stalls. */
  runningMs: number;
  cycles: number;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Stalls `victim` `cycles` times; resolves when the last stall ended, the process running again.
 * The process is continued whatever happens (a stopped process ignores SIGTERM, and would hold
 * the teardown).
 */
export async function stall(victim: Running, { stoppedMs, runningMs, cycles }: StallPattern): Promise<void> {
  const pid = victim.process.child.pid!;
  try {
    for (let i = 0; i < cycles; i++) {
      process.kill(pid, 'SIGSTOP');
      // The fault's own shape: how long the process is frozen, then how long it runs.
      await pause(stoppedMs);
      process.kill(pid, 'SIGCONT');
      if (i + 1 < cycles) await pause(runningMs);
    }
  } finally {
    resume(victim);
  }
}

/** SIGCONT, harmless on a running or exited process (for afterAll). */
export function resume(victim: Running): void {
  try {
    process.kill(victim.process.child.pid!, 'SIGCONT');
  } catch {
    // Already gone.
  }
}
