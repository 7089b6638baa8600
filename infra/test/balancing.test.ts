/**
 * Client-side balancing over real instances found in the real Consul: exact round-robin fairness,
 * and a failing instance ejected by its own circuit breaker with its calls retried elsewhere.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { stopAllProcesses } from '../../test/support/processes.js';
import { clientFor, closeInProcess, ids, setKnob, watchedEchoes, whoamiCallsReceived } from './support/echo.js';

afterEach(async () => {
  await closeInProcess();
  await stopAllProcesses();
});

function tally(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

describe('balancing (real Consul, real instances)', () => {
  it('spreads 30 calls exactly evenly over 3 instances, in turn', async () => {
    const { instances, watcher } = await watchedEchoes('rr', 3);
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
    const { instances, watcher } = await watchedEchoes('breaker', 3);
    // Stated here rather than taken from the defaults: the bounds below are reasoned from them.
    const breaker = { volumeThreshold: 5, resetTimeoutMs: 5_000 };
    const client = clientFor(watcher, { breaker });
    const bad = instances[1]!;
    await setKnob(bad, 'failing', true);

    const statuses: number[] = [];
    const servedBy: string[] = [];
    let ejected: { at: number; callsReceived: number } | undefined;
    for (let i = 0; i < 60; i++) {
      const answer = await client.get('/whoami');
      statuses.push(answer.status);
      servedBy.push(answer.instance!.id);
      if (!ejected && client.breakerState(bad.serviceId) === 'open') {
        ejected = { at: Date.now(), callsReceived: await whoamiCallsReceived(bad) };
      }
    }
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(ejected, 'the breaker of the failing instance opened').toBeDefined();
    const sinceEjectionMs = Date.now() - ejected!.at;
    const receivedAfterEjection = (await whoamiCallsReceived(bad)) - ejected!.callsReceived;
    // The breaker reached its verdict on evidence: no opening before volumeThreshold failed calls.
    expect(ejected!.callsReceived).toBeGreaterThanOrEqual(breaker.volumeThreshold);
    // Ejected means not called: nothing while the breaker is open, and at most one half-open
    // trial per resetTimeoutMs (each failed trial opens it again), should this run be that slow.
    expect(receivedAfterEjection).toBeLessThanOrEqual(Math.floor(sinceEjectionMs / breaker.resetTimeoutMs));
    // Open, or half-open waiting for that trial on a slow run; never back in rotation.
    expect(client.breakerState(bad.serviceId)).not.toBe('closed');
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
    const { instances, watcher } = await watchedEchoes('killed', 3);
    const client = clientFor(watcher);
    const dead = instances[0]!;
    await dead.process.stop('SIGKILL');
    // Consul still lists it as passing until its check fails: the client must cope on its own.
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await client.get('/whoami')).status);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  });

  it('gives up with UpstreamTimeout (504) when every instance is too slow', async () => {
    const { watcher } = await watchedEchoes('slow', 3);
    const client = clientFor(watcher, { attemptTimeoutMs: 200, deadlineMs: 1_000 });
    const started = Date.now();
    const error = await client.get('/slow?ms=20000').catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'UpstreamTimeout', status: 504, code: 'upstream_timeout', service: watcher.service });
    // Three attempts of 200 ms within a 1 s deadline: it gave up long before any instance would
    // have answered (20 s). The bound is loose on purpose; the exact figure is no test's business.
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
