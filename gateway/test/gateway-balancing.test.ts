/**
 * The gateway round-robins over every passing rng instance it learns from the real Consul, and
 * an instance leaving (SIGTERM: deregister → drain) costs no client call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passingIds } from '../../test/support/consul.js';
import { PrivateStack, get, type Running } from './upstreams.js';

describe('gateway → rng balancing (real Consul)', () => {
  const stack = new PrivateStack();
  let gateway: Running;
  let rngs: Running[];

  beforeAll(async () => {
    [gateway, rngs] = await Promise.all([stack.start('gateway'), stack.startRngs(3)]);
  });
  afterAll(() => stack.stopAll());

  it('serves 30 calls over 3 instances in strict rotation: 10 each, consecutive calls cycle', async () => {
    const ids = rngs.map((r) => r.serviceId).sort();
    // Until the gateway's watcher has seen all three, the rotation is over fewer.
    await stack.waitFor('the gateway to route to all 3 rng instances', async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 3; i++) seen.add((await get(gateway.port, '/api/v1/rng/8')).headers.get('x-served-by') ?? '');
      return seen.size === 3;
    });

    const servedBy: string[] = [];
    for (let i = 0; i < 30; i++) {
      const answer = await get(gateway.port, '/api/v1/rng/8');
      expect(answer.status).toBe(200);
      expect(answer.body.length).toBe(8);
      expect(answer.headers.get('content-type')).toBe('application/octet-stream');
      expect(answer.headers.get('x-gateway')).toBe(gateway.serviceId);
      // A proxied answer carries the edge's data policy (set while the upstream worked).
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
      expect(answer.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
      servedBy.push(answer.headers.get('x-served-by') ?? 'missing');
    }

    const counts = Object.fromEntries(ids.map((id) => [id, servedBy.filter((s) => s === id).length]));
    expect(counts).toEqual(Object.fromEntries(ids.map((id) => [id, 10])));
    for (let i = 0; i + 3 < servedBy.length; i++) {
      expect(new Set(servedBy.slice(i, i + 3)).size, `calls ${i}..${i + 2}: ${servedBy.slice(i, i + 3)}`).toBe(3);
      expect(servedBy[i + 3]).toBe(servedBy[i]);
    }
  });

  it('loses no call when an instance is stopped with SIGTERM mid-stream', async () => {
    const [leaving, ...staying] = rngs as [Running, ...Running[]];
    const failures: string[] = [];
    const servedBy: string[] = [];
    let stopAskedAt = Number.POSITIVE_INFINITY;
    let leftAt = Number.POSITIVE_INFINITY;
    /** Calls sent after the SIGTERM and answered before the instance had exited: mid-stream. */
    const servedWhileLeaving: string[] = [];
    const servedAfterExit: string[] = [];

    // Four clients call in a loop until the instance has gone and 40 more calls were answered.
    const client = async () => {
      while (servedAfterExit.length < 40) {
        const sentAt = Date.now();
        const answer = await get(gateway.port, '/api/v1/rng/8').catch((error: Error) => error);
        if (answer instanceof Error) {
          failures.push(answer.message);
          continue;
        }
        const by = answer.headers.get('x-served-by') ?? 'missing';
        if (answer.status !== 200 || answer.body.length !== 8) failures.push(`${answer.status} from ${by}: ${answer.body}`);
        servedBy.push(by);
        if (sentAt > stopAskedAt && Date.now() < leftAt) servedWhileLeaving.push(by);
        if (Date.now() > leftAt) servedAfterExit.push(by);
      }
    };
    const clients = Promise.all([client(), client(), client(), client()]);

    await stack.waitFor('traffic on the instance that is about to leave', () => servedBy.filter((s) => s === leaving.serviceId).length >= 10);
    stopAskedAt = Date.now();
    const exit = await leaving.process.stop('SIGTERM');
    leftAt = Date.now();
    await clients;

    // The calls really went on during the shutdown (deregister, grace, drain), not only around it.
    expect(servedWhileLeaving.length).toBeGreaterThan(0);
    expect(exit.code).toBe(0);
    expect(failures).toEqual([]);
    expect(servedAfterExit).not.toContain(leaving.serviceId);
    expect(new Set(servedAfterExit)).toEqual(new Set(staying.map((r) => r.serviceId)));
    expect(await passingIds(`rng${stack.suffix}`)).toEqual(staying.map((r) => r.serviceId).sort());
  });
});
