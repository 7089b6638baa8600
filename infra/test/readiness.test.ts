/**
 * Readiness drives routing: a failing ready probe makes Consul's HTTP check critical, the
 * watcher (blocking query on `?passing`) drops the instance, and it comes back once the probe
 * recovers. Real Consul, real process, in-process Watcher.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { healthOf } from '../../test/support/consul.js';
import { stopAllProcesses } from '../../test/support/processes.js';
import { uniqueName, waitFor } from '../../test/support/wait.js';
import { closeInProcess, ids, setKnob, startEcho, watch } from './support/echo.js';

afterEach(async () => {
  await closeInProcess();
  await stopAllProcesses();
});

describe('readiness (real Consul)', () => {
  it('drops an instance whose ready probe fails and takes it back when it recovers', async () => {
    const name = uniqueName('ready');
    const [a, b] = await Promise.all([startEcho(name), startEcho(name)]);
    const watcher = watch(name);
    const lists: string[][] = [];
    watcher.subscribe((list) => lists.push(ids(list)));
    const both = [a!.serviceId, b!.serviceId].sort();
    await waitFor('the watcher to see both instances', () => ids(watcher.instances()).join() === both.join(), { timeoutMs: 10_000 });

    await setKnob(b!, 'ready', false);
    const readyAnswer = await fetch(`${b!.url}/health/ready`);
    expect(readyAnswer.status).toBe(503);
    expect(await readyAnswer.json()).toMatchObject({ status: 'unavailable', checks: { switch: 'failing: made unready by the test' } });

    // Consul's check (every 2 s) turns critical, and the watcher follows.
    await waitFor('the watcher to drop the unready instance', () => ids(watcher.instances()).join() === a!.serviceId, {
      timeoutMs: 10_000,
    });
    const entries = await healthOf(name, false);
    const bChecks = entries.find((e) => e.Service.ID === b!.serviceId)?.Checks.filter((c) => c.ServiceID === b!.serviceId);
    expect(bChecks?.map((c) => c.Status)).toEqual(['critical']);
    // Still registered (it may recover), just not passing.
    expect(entries.map((e) => e.Service.ID).sort()).toEqual(both);

    await setKnob(b!, 'ready', true);
    await waitFor('the watcher to take the instance back', () => ids(watcher.instances()).join() === both.join(), {
      timeoutMs: 10_000,
    });
    expect(lists).toContainEqual([a!.serviceId]);
    expect(lists.at(-1)).toEqual(both);
  });
});
