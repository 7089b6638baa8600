import { getEventListeners } from 'node:events';
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

  it('takes an abandoned task out of the line at once: the waiting count and the limit see only live callers', async () => {
    const queue = new SerialQueue(2);
    let release!: () => void;
    const first = queue.run(() => new Promise<void>((resolve) => (release = resolve)));
    const callerGone = new AbortController();
    let ran = false;
    const abandoned = queue.run(async () => {
      ran = true;
    }, callerGone.signal);
    const live = queue.run(async () => 'live');
    expect(queue.waiting).toBe(2);
    await expect(queue.run(async () => 'refused')).rejects.toBeInstanceOf(QueueFull);

    callerGone.abort();
    // Rejected and gone while the first task still runs, not when its turn would have come.
    expect(queue.waiting).toBe(1);
    await expect(abandoned).rejects.toBeInstanceOf(TaskAbandoned);
    expect(queue.busy).toBe(true);
    const admitted = queue.run(async () => 'admitted');
    expect(queue.waiting).toBe(2);

    release();
    await first;
    expect(await Promise.all([live, admitted])).toEqual(['live', 'admitted']);
    expect(ran).toBe(false);
    expect(queue.waiting).toBe(0);
  });

  it('refuses at once a task whose caller is already gone', async () => {
    const queue = new SerialQueue(1);
    const callerGone = new AbortController();
    callerGone.abort();
    await expect(queue.run(async () => 'never', callerGone.signal)).rejects.toBeInstanceOf(TaskAbandoned);
    expect(queue.waiting).toBe(0);
    expect(queue.busy).toBe(false);
  });

  it('stops listening to a waiter\'s signal once its turn comes: a later abort does not cancel a running task', async () => {
    const queue = new SerialQueue();
    let release!: () => void;
    const first = queue.run(() => new Promise<void>((resolve) => (release = resolve)));
    const caller = new AbortController();
    let finishSecond!: () => void;
    let started = false;
    const second = queue.run(async () => {
      started = true;
      await new Promise<void>((resolve) => (finishSecond = resolve));
      return 'done';
    }, caller.signal);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(1);
    release();
    await first;
    await tick();
    expect(started).toBe(true);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    caller.abort();
    finishSecond();
    await expect(second).resolves.toBe('done');
  });
});
