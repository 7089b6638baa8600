import { afterEach, describe, expect, it } from 'vitest';
import { ServiceClient } from '../client/service-client.js';
import { answer, closeUpstreams, startUpstream } from '../client/test-upstreams.js';
import { FixedInstancer } from '../sd/instancer.js';
import { upstreamsView } from './upstreams-view.js';

const clients: ServiceClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await closeUpstreams();
});

let serial = 0;
/** A client of a service name no other test uses (the metrics and the registry are process-wide). */
function clientOf(instancer: FixedInstancer, breaker = {}) {
  const client = new ServiceClient(instancer.service, instancer, { breaker, maxAttempts: 1 });
  clients.push(client);
  return client;
}
const uniqueService = () => `view-test-${process.pid}-${++serial}`;

describe('upstreamsView', () => {
  it('lists each upstream instance with its counts, latency buckets, breaker and in-flight', async () => {
    const [a, b] = await Promise.all([startUpstream(answer(200)), startUpstream(answer(200))]);
    const instancer = new FixedInstancer(uniqueService(), [a.instance, b.instance]);
    const client = clientOf(instancer);
    for (let i = 0; i < 4; i++) await client.get('/');

    const view = await upstreamsView('caller-1');
    expect(view.caller).toBe('caller-1');
    expect(view.startedAt).toBeLessThanOrEqual(view.now);
    const upstream = view.upstreams.find((u) => u.service === instancer.service)!;
    // The watcher's order, whatever it is: the view lists what is passing, not in which order.
    expect([...upstream.passing].sort()).toEqual([a.instance.id, b.instance.id].sort());
    expect(upstream.instances.map((i) => i.id)).toEqual([a.instance.id, b.instance.id].sort());
    for (const instance of upstream.instances) {
      expect(instance).toMatchObject({ passing: true, breaker: 'closed', inFlight: 0, outcomes: { ok: 2 } });
      expect(instance.latency.count).toBe(2);
      expect(instance.latency.buckets).toHaveLength(view.latencyBucketsSeconds.length);
      // Cumulative: the last bucket (10 s) holds every call.
      expect(instance.latency.buckets.at(-1)).toBe(2);
    }
  });

  it('records joined and left from list changes, ejected and back from the breaker', async () => {
    const failing = await startUpstream(answer(503));
    const healthy = await startUpstream(answer(200));
    const instancer = new FixedInstancer(uniqueService(), [failing.instance]);
    const client = clientOf(instancer, { volumeThreshold: 2, resetTimeoutMs: 60_000 });
    const eventsOf = async () =>
      (await upstreamsView('caller-1')).events.filter((e) => e.service === instancer.service).map((e) => [e.kind, e.instance]);

    await client.get('/').catch(() => {});
    await client.get('/').catch(() => {});
    const view = await upstreamsView('caller-1');
    const instance = view.upstreams.find((u) => u.service === instancer.service)!.instances[0]!;
    expect(instance.breaker).toBe('open');
    expect(instance.outcomes.server_error).toBe(2);
    expect(await eventsOf()).toEqual([['ejected', failing.instance.id]]);

    instancer.set([failing.instance, healthy.instance]);
    instancer.set([healthy.instance]);
    expect(await eventsOf()).toEqual([
      ['ejected', failing.instance.id],
      ['joined', healthy.instance.id],
      ['left', failing.instance.id],
    ]);
    const seqs = (await upstreamsView('caller-1')).events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
  });

  it('drops a service from the view once its last client closed', async () => {
    const upstream = await startUpstream(answer(200));
    const instancer = new FixedInstancer(uniqueService(), [upstream.instance]);
    const first = new ServiceClient(instancer.service, instancer);
    const second = new ServiceClient(instancer.service, instancer);
    const listed = async () => (await upstreamsView('c')).upstreams.some((u) => u.service === instancer.service);
    expect(await listed()).toBe(true);
    await first.close();
    expect(await listed()).toBe(true);
    await second.close();
    expect(await listed()).toBe(false);
    expect(instancer.subscriberCount).toBe(0);
  });
});
