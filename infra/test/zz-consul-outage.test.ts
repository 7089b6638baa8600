/**
 * Consul outage (runs last: it stops the shared Consul agent for a few seconds). While Consul is
 * down, watchers keep their last list and calls keep working, in-process and inside a service
 * process; once Consul is back, every instance re-registers by itself within seconds.
 * Whatever happens, Consul is started again at the end.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { passingIds } from '../../test/support/consul.js';
import { componentUp, startComponent, stopComponent } from '../../test/support/infra-control.js';
import { stopAllProcesses } from '../../test/support/processes.js';
import { uniqueName, waitFor } from '../../test/support/wait.js';
import { clientFor, closeInProcess, ids, startEcho, watch } from './support/echo.js';

const consulUp = () => componentUp('consul');
const startConsul = () => startComponent('consul');
const stopConsul = () => stopComponent('consul');

afterEach(async () => {
  await closeInProcess();
  await stopAllProcesses();
});
afterAll(async () => {
  if (!(await consulUp())) await startConsul();
}, 120_000);

describe('consul outage (stops and restarts the shared agent)', () => {
  it('keeps routing on the last known instances, then re-registers everything', async () => {
    await startConsul();
    const name = uniqueName('outage');
    const [a, b] = await Promise.all([startEcho(name), startEcho(name)]);
    const relayName = uniqueName('outage-relay');
    const relay = await startEcho(relayName, { UPSTREAM: name });
    const both = [a!.serviceId, b!.serviceId].sort();
    // A short backoff: the watcher asks the restarted agent at once, before anyone re-registered.
    const watcher = watch(name, { backoff: { baseMs: 20, maxMs: 100 } });
    const client = clientFor(watcher);
    await waitFor('the watcher to see both instances', () => ids(watcher.instances()).join() === both.join(), { timeoutMs: 10_000 });
    await waitFor('the relay to route', async () => (await fetch(`${relay.url}/relay`)).status === 200, { timeoutMs: 10_000 });
    const lists: string[][] = [];
    watcher.subscribe((list) => lists.push(ids(list)));

    try {
      await stopConsul();
      await waitFor('the watcher to notice the outage', () => watcher.consecutiveFailures > 0, { timeoutMs: 10_000 });

      // Down: the last list stays, and calls keep working, in-process and through the relay process.
      expect(ids(watcher.instances())).toEqual(both);
      const servedBy = new Set<string>();
      for (let i = 0; i < 10; i++) {
        const answer = await client.get('/whoami');
        expect(answer.status).toBe(200);
        servedBy.add(answer.instance!.id);
      }
      expect([...servedBy].sort()).toEqual(both);
      for (let i = 0; i < 4; i++) {
        const relayed = await fetch(`${relay.url}/relay`);
        expect(relayed.status).toBe(200);
      }
      // The instances themselves stay up and ready (readiness does not depend on Consul).
      expect((await fetch(`${a!.url}/health/ready`)).status).toBe(200);
    } finally {
      await startConsul();
    }

    // Back: the fresh dev agent knows nobody; every instance registers again by itself. Calls
    // keep working meanwhile: an empty answer from the agent that just came back is not believed.
    const backAt = Date.now();
    const failures: string[] = [];
    await waitFor('both instances to re-register', async () => {
      const answer = await client.get('/whoami').catch((error: Error) => ({ status: error.name }));
      if (answer.status !== 200) failures.push(`client: ${answer.status}`);
      const relayed = await fetch(`${relay.url}/relay`);
      if (relayed.status !== 200) failures.push(`relay: ${relayed.status}`);
      return (await passingIds(name)).join() === both.join();
    }, { timeoutMs: 10_000 });
    expect(failures).toEqual([]);
    await waitFor('the relay to re-register', async () => (await passingIds(relayName)).length === 1, {
      timeoutMs: 10_000,
    });
    expect(Date.now() - backAt).toBeLessThan(5_000);
    await waitFor('the watcher to resume', () => watcher.consecutiveFailures === 0 && ids(watcher.instances()).join() === both.join(), {
      timeoutMs: 10_000,
    });
    expect(a!.process.output()).toContain('consul lost our registration; registering again');
    // The watcher never dropped to an empty list on the way.
    expect(lists.filter((list) => list.length === 0)).toEqual([]);
    const answer = await client.get('/whoami');
    expect(answer.status).toBe(200);
    expect((await fetch(`${relay.url}/relay`)).status).toBe(200);
  });
});
