import type { Cancellation } from '@switchyard/infra';

/** Raised when the queue already holds `limit` waiting tasks. */
export class QueueFull extends Error {
  override name = 'QueueFull';
}

/** Raised for a task whose caller gave up (its signal aborted) before its turn came. */
export class TaskAbandoned extends Error {
  override name = 'TaskAbandoned';
}

/** A task waiting for its turn; `start` runs it and settles the caller's promise. */
interface Waiter {
  start: () => void;
}

/**
 * Runs async tasks strictly one at a time, in arrival order. This is the rng's point: the
 * classic generator is single-threaded and slow, so one instance has a fixed capacity
 * (1 / delay) and the only way to more random bytes per second is more instances.
 *
 * A task whose signal aborts while it waits leaves the line at once, without running: a caller
 * that timed out (and retried elsewhere) neither costs this instance a slot nor counts against
 * `limit` or the queue-depth gauge while its would-be turn is still ahead. `limit` bounds the
 * waiting line: past it the instance is overloaded and says so at once instead of answering late.
 */
export class SerialQueue {
  /** Waiting tasks in arrival order (a Set: an abandoned one is removed from the middle in O(1)). */
  private readonly line = new Set<Waiter>();
  private running = false;

  constructor(private readonly limit = Number.POSITIVE_INFINITY) {}

  /** Tasks queued behind the running one, abandoned ones excluded. */
  get waiting(): number {
    return this.line.size;
  }

  get busy(): boolean {
    return this.running;
  }

  run<T>(task: () => Promise<T>, signal?: Cancellation): Promise<T> {
    if (signal?.aborted) return Promise.reject(new TaskAbandoned('caller went away before its turn'));
    if (!this.running && this.line.size === 0) return this.execute(task);
    if (this.line.size >= this.limit) {
      return Promise.reject(new QueueFull(`${this.line.size} requests already waiting`));
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        this.line.delete(waiter);
        reject(new TaskAbandoned('caller went away before its turn'));
      };
      const waiter: Waiter = {
        start: () => {
          // Its turn came: a later abort is the running task's business, not the line's.
          signal?.removeEventListener('abort', onAbort);
          this.execute(task).then(resolve, reject);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.line.add(waiter);
    });
  }

  private async execute<T>(task: () => Promise<T>): Promise<T> {
    this.running = true;
    try {
      return await task();
    } finally {
      // The line goes on after a failed task too: the next one waits for completion, not success.
      this.running = false;
      this.startNext();
    }
  }

  private startNext(): void {
    const next = this.line.values().next();
    if (next.done) return;
    this.line.delete(next.value);
    next.value.start();
  }
}
