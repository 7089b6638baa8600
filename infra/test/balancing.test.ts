/**
 * Client-side balancing over real instances found in the real Consul: exact round-robin fairness,
 * and a failing instance ejected by its own circuit breaker with its calls retried elsewhere.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { stopAllProcesses } from '../../test/support/processes.js';
import { uniqueName, waitFor } from '../../test/support/wait.js';
import { clientFor, closeInProcess, ids, setKnob, startEcho, watch } from './support/echo.js';

afterEach(async () => {
  await closeInProcess();
  await stopAllProcesses();
});

async function threeInstances(prefix: string) {
  const name = uniqueName(prefix);
  const instances = await Promise.all([startEcho(name), startEcho(name), startEcho(name)]);
  const watcher = watch(name);
  const all = ids(instances.map((i) => ({ id: i.serviceId })));
  await waitFor('the watcher to see all three instances', () => ids(watcher.instances()).join() === all.join(), {
    timeoutMs: 15_000,
  });
  return { name, instances, watcher };
}

function tally(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

describe('balancing (real Consul, real instances)', () => {
  it('spreads 30 calls exactly evenly over 3 instances, in turn', async () => {
    const { instances, watcher } = await threeInstances('rr');
    const client = clientFor(watcher);
    const servedBy: string[] = [];
    for (let i = 0; i < 30; i++) {
      const answer = await client.get('/whoami');
      expect(answer.status).toBe(200);
      const id = (JSON.parse(answer.body.toString()) as { id: string }).id;
      expect(answer.headers['x-served-by']).toBe(id);
      expect(answer.instance?.id).toBe(id);
      servedBy.push(id);
    }
    const counts = tally(servedBy);
    expect(Object.keys(counts).sort()).toEqual(ids(instances.map((i) => ({ id: i.serviceId }))));
    expect(Object.values(counts)).toEqual([10, 10, 10]);
    // In turn: every window of three consecutive calls hits three different instances.
    for (let i = 0; i + 3 <= servedBy.length; i++) expect(new Set(servedBy.slice(i, i + 3)).size).toBe(3);
  });

  it('ejects a failing instance with its breaker and retries its calls elsewhere: no failed call', async () => {
    const { instances, watcher } = await threeInstances('breaker');
    const client = clientFor(watcher);
    const bad = instances[1]!;
    await setKnob(bad, 'failing', true);

    const statuses: number[] = [];
    const servedBy: string[] = [];
    for (let i = 0; i < 60; i++) {
      const answer = await client.get('/whoami');
      statuses.push(answer.status);
      servedBy.push(answer.instance!.id);
    }
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(servedBy).not.toContain(bad.serviceId);
    expect(client.breakerState(bad.serviceId)).toBe('open');
    expect(client.breakerState(instances[0]!.serviceId)).toBe('closed');
    expect(client.breakerState(instances[2]!.serviceId)).toBe('closed');
    // Consul still calls it passing (its ready probe is fine): the ejection is the caller's own.
    expect(ids(watcher.instances())).toContain(bad.serviceId);
    // Both survivors kept serving (the retries of the ejected instance land on one or the other).
    const counts = tally(servedBy);
    expect(counts[instances[0]!.serviceId]).toBeGreaterThanOrEqual(20);
    expect(counts[instances[2]!.serviceId]).toBeGreaterThanOrEqual(20);
  });

  it('retries elsewhere when an instance dies without deregistering (SIGKILL): no failed call', async () => {
    const { instances, watcher } = await threeInstances('killed');
    const client = clientFor(watcher);
    const dead = instances[0]!;
    await dead.process.stop('SIGKILL');
    // Consul still lists it as passing until its check fails: the client must cope on its own.
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await client.get('/whoami')).status);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  });

  it('gives up with UpstreamTimeout (504) when every instance is too slow', async () => {
    const { watcher } = await threeInstances('slow');
    const client = clientFor(watcher, { attemptTimeoutMs: 200, deadlineMs: 1_000 });
    const started = Date.now();
    const error = await client.get('/slow?ms=3000').catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'UpstreamTimeout', status: 504, code: 'upstream_timeout', service: watcher.service });
    // Three attempts of 200 ms on three instances, well within the deadline.
    expect(Date.now() - started).toBeLessThan(1_500);
  });
});
