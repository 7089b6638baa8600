/** Raised when the queue already holds `limit` waiting tasks. */
export class QueueFull extends Error {
  override name = 'QueueFull';
}

/** Raised for a task whose caller gave up (its signal aborted) before its turn came. */
export class TaskAbandoned extends Error {
  override name = 'TaskAbandoned';
}

/**
 * Runs async tasks strictly one at a time, in arrival order. This is the rng's point: the
 * classic generator is single-threaded and slow, so one instance has a fixed capacity
 * (1 / delay) and the only way to more random bytes per second is more instances.
 *
 * A task whose signal aborts while it waits is dropped without running, so a caller that timed
 * out (and retried elsewhere) does not cost this instance a slot. `limit` bounds the waiting
 * line: past it the instance is overloaded and says so at once instead of answering late.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waitingCount = 0;
  private running = false;

  constructor(private readonly limit = Number.POSITIVE_INFINITY) {}

  /** Tasks queued behind the running one. */
  get waiting(): number {
    return this.waitingCount;
  }

  get busy(): boolean {
    return this.running;
  }

  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.waitingCount >= this.limit) {
      return Promise.reject(new QueueFull(`${this.waitingCount} requests already waiting`));
    }
    this.waitingCount += 1;
    const result = this.tail.then(async () => {
      this.waitingCount -= 1;
      if (signal?.aborted) throw new TaskAbandoned('caller went away before its turn');
      this.running = true;
      try {
        return await task();
      } finally {
        this.running = false;
      }
    });
    // The chain must survive a failed task: the next one waits for completion, not success.
    this.tail = result.catch(() => {});
    return result;
  }
}
