/**
 * ServiceClient's retry and ejection rules against real HTTP servers on 127.0.0.1, listed by a
 * FixedInstancer: what is retried (and where), what counts against an instance, what is relayed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { metricsRegistry } from '../metrics.js';
import { FixedInstancer } from '../sd/instancer.js';
import { ResponseTooLarge, UpstreamUnavailable } from './errors.js';
import { statusRetryPolicy } from './retry-policy.js';
import { ServiceClient, type ServiceClientOptions } from './service-client.js';
import { answer, closeUpstreams, cutAfterReading, refusingInstance, startUpstream, type TestUpstream } from './test-upstreams.js';
import type { Instance } from '../sd/instance.js';

const clients: ServiceClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await closeUpstreams();
});

let services = 0;
function clientOf(instances: Array<TestUpstream | Instance>, options: ServiceClientOptions = {}): ServiceClient {
  services += 1;
  const list = instances.map((i) => ('instance' in i ? i.instance : i));
  const client = new ServiceClient(`retry-rules-${services}`, new FixedInstancer(`retry-rules-${services}`, list), options);
  clients.push(client);
  return client;
}

const totalCalls = (upstreams: TestUpstream[]) => upstreams.reduce((sum, u) => sum + u.calls, 0);

async function retriesOf(service: string, result: string): Promise<number> {
  const metric = await metricsRegistry.getSingleMetric('switchyard_upstream_retries_total')!.get();
  return metric.values.filter((v) => v.labels.service === service && v.labels.result === result).reduce((sum, v) => sum + v.value, 0);
}

describe('answers by status', () => {
  it('relays a deterministic 500 as is: one attempt per call, and no instance ejected', async () => {
    const upstreams = await Promise.all([1, 2, 3].map(() => startUpstream(answer(500))));
    const client = clientOf(upstreams);
    for (let i = 0; i < 20; i++) {
      const response = await client.get('/provokes-a-bug');
      expect(response.status).toBe(500);
      expect(JSON.parse(response.body.toString())).toEqual({ status: 500 });
    }
    expect(totalCalls(upstreams)).toBe(20);
    expect(upstreams.map((u) => client.breakerState(u.instance.id))).toEqual(['closed', 'closed', 'closed']);
  });

  it('relays a 501 the same way', async () => {
    const upstreams = await Promise.all([1, 2].map(() => startUpstream(answer(501))));
    const client = clientOf(upstreams);
    for (let i = 0; i < 8; i++) expect((await client.get('/')).status).toBe(501);
    expect(totalCalls(upstreams)).toBe(8);
    expect(upstreams.map((u) => client.breakerState(u.instance.id))).toEqual(['closed', 'closed']);
  });

  it('retries a 503 on another instance and ejects the instance that keeps answering it', async () => {
    const overloaded = await startUpstream(answer(503));
    const healthy = await startUpstream(answer(200));
    const client = clientOf([overloaded, healthy]);
    for (let i = 0; i < 12; i++) expect((await client.get('/')).status).toBe(200);
    expect(client.breakerState(overloaded.instance.id)).toBe('open');
    expect(client.breakerState(healthy.instance.id)).toBe('closed');
    // Once ejected it receives nothing more: fewer calls than the 6 its turns would have brought.
    expect(overloaded.calls).toBeLessThan(6);
  });

  it('takes a 429 as back-pressure: tries another instance, never ejects, relays it with Retry-After when all are busy', async () => {
    const busy = await startUpstream(answer(429, { 'retry-after': '7' }));
    const healthy = await startUpstream(answer(200));
    const client = clientOf([busy, healthy]);
    for (let i = 0; i < 12; i++) expect((await client.get('/')).status).toBe(200);
    // Still in rotation: an ejected instance would have stopped receiving calls after about 5.
    expect(busy.calls).toBeGreaterThanOrEqual(6);
    expect(client.breakerState(busy.instance.id)).toBe('closed');

    const allBusy = clientOf([busy, await startUpstream(answer(429, { 'retry-after': '7' }))]);
    const relayed = await allBusy.get('/');
    expect(relayed.status).toBe(429);
    expect(relayed.headers['retry-after']).toBe('7');
  });

  it('does not retry a 503 of a POST (it may have been processed)', async () => {
    const upstreams = await Promise.all([1, 2].map(() => startUpstream(answer(503))));
    const client = clientOf(upstreams);
    expect((await client.post('/', 'x')).status).toBe(503);
    expect(totalCalls(upstreams)).toBe(1);
  });
});

describe('failures without an answer', () => {
  it('does not retry a POST once its request may have reached an instance', async () => {
    const upstreams = await Promise.all([1, 2].map(() => startUpstream(cutAfterReading)));
    const client = clientOf(upstreams);
    await expect(client.post('/charge', 'once')).rejects.toBeInstanceOf(UpstreamUnavailable);
    expect(totalCalls(upstreams)).toBe(1);
    // The same failure on a GET is retried on the other instance: the count above is not an accident.
    await expect(client.get('/')).rejects.toBeInstanceOf(UpstreamUnavailable);
    expect(totalCalls(upstreams)).toBe(3);
  });

  it('retries a POST refused before delivery on another instance', async () => {
    const live = await startUpstream(answer(201));
    const client = clientOf([await refusingInstance(), live]);
    for (let i = 0; i < 4; i++) {
      const response = await client.post('/orders', '{}');
      expect(response.status).toBe(201);
      expect(response.instance?.id).toBe(live.instance.id);
    }
    expect(live.calls).toBe(4);
    // One refusal was enough to eject the dead address: the later calls went straight to `live`.
    const dead = client.instances().find((i) => i.id !== live.instance.id)!;
    expect(client.breakerState(dead.id)).toBe('open');
    expect(client.breakerState(live.instance.id)).toBe('closed');
  });

  it('follows the idempotent override both ways', async () => {
    const upstreams = await Promise.all([1, 2].map(() => startUpstream(cutAfterReading)));
    const client = clientOf(upstreams);
    await expect(client.post('/hash', 'bytes', { idempotent: true })).rejects.toBeInstanceOf(UpstreamUnavailable);
    expect(totalCalls(upstreams)).toBe(2);
    await expect(client.get('/side-effect', { idempotent: false })).rejects.toBeInstanceOf(UpstreamUnavailable);
    expect(totalCalls(upstreams)).toBe(3);
  });

  it('stops at maxAttempts and relays the last answer', async () => {
    const upstreams = await Promise.all([1, 2, 3, 4].map(() => startUpstream(answer(503))));
    const twice = clientOf(upstreams, { maxAttempts: 2, breaker: { volumeThreshold: 100 } });
    expect((await twice.get('/')).status).toBe(503);
    expect(totalCalls(upstreams)).toBe(2);
    const byDefault = clientOf(upstreams, { breaker: { volumeThreshold: 100 } });
    expect((await byDefault.get('/')).status).toBe(503);
    expect(totalCalls(upstreams)).toBe(2 + 3);
  });

  it('stops retrying when the retry budget refuses', async () => {
    const upstreams = await Promise.all([1, 2, 3].map(() => startUpstream(answer(503))));
    // Room for exactly one retry in the window: 0.1 per second over 10 s, and no share of requests.
    const client = clientOf(upstreams, { retryBudget: { ratio: 0, minPerSecond: 0.1, windowMs: 10_000 }, breaker: { volumeThreshold: 100 } });
    expect((await client.get('/')).status).toBe(503);
    expect(totalCalls(upstreams)).toBe(2);
    expect(await retriesOf(client.service, 'retried')).toBe(1);
    expect((await client.get('/')).status).toBe(503);
    expect(totalCalls(upstreams)).toBe(3);
    expect(await retriesOf(client.service, 'refused_by_budget')).toBe(2);
  });
});

describe('a retry policy per client and per call', () => {
  it('lets a client, or one call, treat a 500 as the instance failing', async () => {
    const broken = await startUpstream(answer(500));
    const healthy = await startUpstream(answer(200));
    const statuses = async (client: ServiceClient, init = {}) => {
      const seen: number[] = [];
      for (let i = 0; i < 4; i++) seen.push((await client.get('/', init)).status);
      return seen.sort();
    };
    const strict = statusRetryPolicy({ failureStatuses: [500, 502, 503, 504] });
    expect(await statuses(clientOf([broken, healthy], { retryPolicy: strict }))).toEqual([200, 200, 200, 200]);
    const client = clientOf([broken, healthy]);
    expect(await statuses(client, { retryPolicy: strict })).toEqual([200, 200, 200, 200]);
    // Without it, round robin hands every other call to the broken instance, whose 500 is relayed.
    expect(await statuses(client)).toEqual([200, 200, 500, 500]);
  });

  it('caps a buffered answer at maxResponseBytes: ResponseTooLarge, no retry, no ejection', async () => {
    const big = await Promise.all(
      [1, 2].map(() => startUpstream((_req, res) => res.writeHead(200, { 'content-length': String(64 * 1024) }).end(Buffer.alloc(64 * 1024)))),
    );
    const client = clientOf(big, { maxResponseBytes: 16 * 1024 });
    for (let i = 0; i < 6; i++) {
      const error = await client.get('/').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ResponseTooLarge);
      expect(error).toMatchObject({ status: 502, code: 'upstream_response_too_large' });
    }
    expect(totalCalls(big)).toBe(6);
    expect(big.map((u) => client.breakerState(u.instance.id))).toEqual(['closed', 'closed']);
    // A HEAD states the length of a body it does not carry: nothing to refuse.
    const head = await client.request({ method: 'HEAD', path: '/' });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(64 * 1024));
    // A call may raise its own cap.
    expect((await client.get('/', { maxResponseBytes: 64 * 1024 })).body.length).toBe(64 * 1024);
  });
});
