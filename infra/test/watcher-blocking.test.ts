/**
 * The watcher learns about changes through Consul blocking queries, not polling: with a 300 s
 * wait (so no poll could explain it), a new instance shows up within a fraction of a second of its
 * registration, and a deregistered one disappears as fast.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { stopAllProcesses } from '../../test/support/processes.js';
import { uniqueName, waitFor } from '../../test/support/wait.js';
import { closeInProcess, ids, startEcho, watch } from './support/echo.js';

afterEach(async () => {
  await closeInProcess();
  await stopAllProcesses();
});

/** Wall-clock time of the registrar's "registered <id> in consul" log line. */
function registeredAt(output: string, serviceId: string): number | undefined {
  for (const line of output.split('\n')) {
    if (!line.includes(`registered ${serviceId} in consul`)) continue;
    return Date.parse((JSON.parse(line) as { time: string }).time);
  }
  return undefined;
}

describe('watcher (real Consul blocking queries)', () => {
  it('sees a new instance within milliseconds of its registration, with waitSeconds 300', async () => {
    const name = uniqueName('block');
    const first = await startEcho(name);
    const watcher = watch(name, { waitSeconds: 300 });
    await waitFor('the first instance', () => watcher.instances().length === 1, { timeoutMs: 10_000 });
    // The watcher is now parked in a 300 s blocking query.
    const syncsBefore = watcher.lastSyncAt;

    const seen = new Promise<{ at: number; list: string[] }>((resolve) => {
      watcher.subscribe((list) => {
        if (list.length === 2) resolve({ at: Date.now(), list: ids(list) });
      });
    });
    const second = await startEcho(name);
    const change = await seen;
    const registered = await waitFor('the registration log line', () => registeredAt(second.process.output(), second.serviceId));

    expect(change.list).toEqual([first.serviceId, second.serviceId].sort());
    const lag = change.at - registered;
    expect(lag).toBeLessThan(1_000);
    expect(watcher.lastSyncAt).toBeGreaterThan(syncsBefore);
    expect(watcher.consecutiveFailures).toBe(0);

    // Deregistration on SIGTERM reaches the watcher just as fast (long before any check fails).
    const dropped = new Promise<number>((resolve) => {
      watcher.subscribe((list) => {
        if (list.length === 1) resolve(Date.now());
      });
    });
    const signalledAt = Date.now();
    second.process.child.kill('SIGTERM');
    const droppedAt = await dropped;
    expect(droppedAt - signalledAt).toBeLessThan(1_000);
    expect(ids(watcher.instances())).toEqual([first.serviceId]);
    expect(await second.process.exited).toEqual({ code: 0, signal: null });
  });

  it('answers ready() with an empty list for a service nobody registered, without waiting for the 300 s wait', async () => {
    const watcher = watch(uniqueName('nobody'), { waitSeconds: 300 });
    const started = Date.now();
    expect(await watcher.ready(5_000)).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(watcher.lastSyncAt).toBeGreaterThan(0);
  });
});
