import { describe, expect, it } from 'vitest';
import { QueueFull, SerialQueue, TaskAbandoned } from './serial-queue.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('SerialQueue', () => {
  it('runs one task at a time, in arrival order', async () => {
    const queue = new SerialQueue();
    let running = 0;
    let maxRunning = 0;
    const order: number[] = [];
    const task = (n: number) => async () => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      await tick();
      order.push(n);
      running -= 1;
      return n;
    };
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => queue.run(task(n))));
    expect(results).toEqual([1, 2, 3, 4, 5]);
    expect(order).toEqual([1, 2, 3, 4, 5]);
    expect(maxRunning).toBe(1);
  });

  it('goes on after a failed task', async () => {
    const queue = new SerialQueue();
    const failed = queue.run(async () => {
      throw new Error('boom');
    });
    const next = queue.run(async () => 'still serving');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('still serving');
  });

  it('counts the waiting tasks and refuses past the limit', async () => {
    const queue = new SerialQueue(2);
    let release!: () => void;
    const first = queue.run(() => new Promise<void>((resolve) => (release = resolve)));
    await tick();
    expect(queue.busy).toBe(true);
    const waiting = [queue.run(async () => 'a'), queue.run(async () => 'b')];
    expect(queue.waiting).toBe(2);
    await expect(queue.run(async () => 'c')).rejects.toBeInstanceOf(QueueFull);
    release();
    await first;
    expect(await Promise.all(waiting)).toEqual(['a', 'b']);
    expect(queue.waiting).toBe(0);
    expect(queue.busy).toBe(false);
  });

  it('skips a task whose caller gave up while it waited', async () => {
    const queue = new SerialQueue();
    let release!: () => void;
    const first = queue.run(() => new Promise<void>((resolve) => (release = resolve)));
    const callerGone = new AbortController();
    let ran = false;
    const abandoned = queue.run(async () => {
      ran = true;
    }, callerGone.signal);
    const after = queue.run(async () => 'next');
    await tick();
    callerGone.abort();
    release();
    await first;
    await expect(abandoned).rejects.toBeInstanceOf(TaskAbandoned);
    await expect(after).resolves.toBe('next');
    expect(ran).toBe(false);
  });
});
