/**
 * liveSockets + ctx.events() end to end (real Consul, Redis, processes): a socket on one instance
 * receives what another instance publishes; upgrades are authenticated by the service itself
 * (query or header) and refused as plain JSON before switching; heartbeats cut a client that
 * never pongs; bad frames get a close with a reason (or an error event) and never take the
 * instance down; a slow reader is closed with 1008; SIGTERM closes sockets with 1012 and exits.
 * `auth` is the JWKS fixture publishing a key this test signs with.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IsolatedStack, type Running } from '../../test/support/isolated-stack.js';
import { scrapeMetric } from '../../test/support/metrics.js';
import { LiveClient, jwksOf, refusedUpgrade, testKey, tokenFor, type TestKey } from './support/live-clients.js';

const ENTRIES = { auth: 'infra/test/fixtures/jwks-service.ts', live: 'infra/test/support/live-service.ts' };

describe('live sockets across instances (real Redis, Consul)', () => {
  const stack = new IsolatedStack(ENTRIES);
  let key: TestKey;
  let a: Running;
  let b: Running;

  const wsUrl = (instance: Running, query = '') => `ws://127.0.0.1:${instance.port}/ws${query}`;
  const publish = async (instance: Running, topic: string, event: object, extra: { count?: number; padBytes?: number } = {}) => {
    const response = await fetch(`${instance.url}/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ topic, event, ...extra }),
    });
    expect(response.status).toBe(200);
  };
  const liveState = async (instance: Running) => (await (await fetch(`${instance.url}/live`)).json()) as { sockets: number; subscriptions: number };
  const metric = (instance: Running, name: string, labels: Record<string, string> = {}) => scrapeMetric(`${instance.url}/metrics`, name, labels);
  /** A connected client of `user`, past its ready and subscribed events. */
  const connect = async (instance: Running, user: string, query = '') => {
    const client = new LiveClient(wsUrl(instance, `?access_token=${await tokenFor(key, user)}${query}`));
    await client.opened;
    expect(await client.next()).toEqual({ type: 'ready', servedBy: instance.serviceId });
    await client.nextOfType('subscribed');
    return client;
  };

  beforeAll(async () => {
    key = await testKey();
    await stack.startPassing('auth', 1, { FIXTURE_JWKS: jwksOf(key) });
    [a, b] = await Promise.all([stack.start('live', { WS_HEARTBEAT_MS: '400' }), stack.start('live', { WS_HEARTBEAT_MS: '400' })]);
    // The first verification waits for discovery of auth; later ones are local.
    await stack.waitFor('instance A to verify tokens', async () => {
      const client = new LiveClient(wsUrl(a, `?access_token=${await tokenFor(key)}`));
      try {
        await client.opened;
        return true;
      } catch {
        return false;
      } finally {
        client.ws.terminate();
      }
    });
  });
  afterAll(() => stack.stopAll());

  it('delivers an event published on instance B to a socket held by instance A; x-served-by and ready name A', async () => {
    const user = 'ada';
    const client = new LiveClient(wsUrl(a, `?access_token=${await tokenFor(key, user)}&since=42`));
    const headers = await client.opened;
    expect(headers['x-served-by']).toBe(a.serviceId);
    expect(await client.next()).toEqual({ type: 'ready', servedBy: a.serviceId });
    // The hooks see the query without the token.
    expect(await client.next()).toEqual({ type: 'subscribed', since: '42', sawToken: false });

    await publish(b, `user:${user}`, { type: 'message', id: '1' });
    expect(await client.next()).toEqual({ type: 'message', id: '1', seq: 0 });
    // Another user's events are not this socket's.
    await publish(b, 'user:grace', { type: 'message', id: '2' });
    await publish(a, `user:${user}`, { type: 'message', id: '3' });
    expect(await client.next()).toEqual({ type: 'message', id: '3', seq: 0 });

    client.ws.close(1000);
    await client.closed;
    await stack.waitFor('the subscription to go with the socket', async () => (await liveState(a)).subscriptions === 0);
  });

  it('takes the token from an Authorization header too', async () => {
    const client = new LiveClient(wsUrl(b), { headers: { authorization: `Bearer ${await tokenFor(key, 'hdr')}` } });
    await client.opened;
    expect((await client.next()).type).toBe('ready');
    client.ws.close(1000);
  });

  it('refuses upgrades before switching: no token, a bad token, a bad query, another path (JSON, x-served-by)', async () => {
    const noToken = await refusedUpgrade(a.port, '/ws');
    expect(noToken.status).toBe(401);
    expect(JSON.parse(noToken.body).error.code).toBe('missing_token');
    expect(noToken.headers['www-authenticate']).toBe('Bearer realm="switchyard"');
    expect(noToken.headers['x-served-by']).toBe(a.serviceId);

    const forged = await tokenFor(await testKey(key.kid));
    for (const [what, path, headers] of [
      ['a forged token', `/ws?access_token=${forged}`, {}],
      ['garbage', '/ws?access_token=not-a-token', {}],
      ['a bad header', '/ws', { authorization: 'Basic abc' }],
    ] as const) {
      const refused = await refusedUpgrade(a.port, path, headers);
      expect(refused.status, what).toBe(401);
      expect(JSON.parse(refused.body).error.code, what).toBe('invalid_token');
    }

    const badSince = await refusedUpgrade(a.port, `/ws?since=abc&access_token=${await tokenFor(key)}`);
    expect(badSince.status).toBe(400);
    expect(JSON.parse(badSince.body).error).toMatchObject({ code: 'invalid_request', message: expect.stringContaining('since') });

    const elsewhere = await refusedUpgrade(a.port, `/other?access_token=${await tokenFor(key)}`);
    expect(elsewhere.status).toBe(404);
    expect(JSON.parse(elsewhere.body).error.code).toBe('not_found');
    // The token never reaches the logs.
    expect(a.process.output()).not.toContain(forged);
  });

  it('terminates a client that never answers pings; one that does stays', async () => {
    const silent = new LiveClient(wsUrl(a, `?access_token=${await tokenFor(key, 'silent')}`), { autoPong: false });
    await silent.opened;
    const healthy = await connect(a, 'healthy');
    const started = Date.now();
    const closed = await silent.closed;
    // Terminated, not closed: a dead peer would never answer a close either.
    expect(closed.code).toBe(1006);
    expect(Date.now() - started).toBeLessThan(5_000);
    // Several heartbeats later the answering client is still served.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    await publish(b, 'user:healthy', { type: 'still-here' });
    expect(await healthy.nextOfType('still-here')).toMatchObject({ type: 'still-here' });
    healthy.ws.close(1000);
  });

  it('answers bad frames with a close and a reason, or an error event, and stays up', async () => {
    const client = await connect(a, 'frames');
    client.send({ type: 'ping' });
    expect(await client.next()).toEqual({ type: 'pong' });
    client.send({ type: 'echo', n: 1 });
    expect(await client.next()).toEqual({ type: 'echo', got: { type: 'echo', n: 1 }, user: 'frames' });
    client.send({ type: 'teleport' });
    expect(await client.next()).toMatchObject({ type: 'error', code: 'unknown_event' });
    client.send('[1,2]');
    expect(await client.next()).toMatchObject({ type: 'error', code: 'unknown_event' });
    client.send('{"type":');
    expect(await client.closed).toEqual({ code: 1007, reason: 'invalid_json' });

    const big = await connect(a, 'frames');
    big.send({ type: 'echo', text: 'x'.repeat(17 * 1024) });
    expect((await big.closed).code).toBe(1009);

    const binary = await connect(a, 'frames');
    binary.ws.send(Buffer.from([1, 2, 3]));
    expect(await binary.closed).toEqual({ code: 1003, reason: 'binary_not_supported' });

    // Still alive and serving.
    a.process.assertRunning();
    const after = await connect(a, 'frames');
    after.ws.close(1000);
  });

  it('closes a client that stops reading with 1008 slow_consumer, and keeps serving the others', async () => {
    // Default heartbeat (15 s): the stalled client is closed for its backlog, not for a missed pong.
    const c = await stack.start('live', { WS_MAX_BUFFERED_BYTES: String(64 * 1024) });
    const slow = await connect(c, 'slow');
    const other = await connect(c, 'other');
    slow.ws.pause();
    // Until the kernel's socket buffers are full too, nothing piles up in the process; keep going.
    await stack.waitFor('the slow consumer to be closed', async () => {
      await publish(b, 'user:slow', { type: 'bulk' }, { count: 100, padBytes: 16 * 1024 });
      return (await metric(c, 'switchyard_live_events_dropped_total', { reason: 'slow_consumer' })) >= 1;
    }, { timeoutMs: 30_000, intervalMs: 1 });
    slow.ws.resume();
    expect(await slow.closed).toEqual({ code: 1008, reason: 'slow_consumer' });
    await publish(b, 'user:other', { type: 'fine' });
    expect(await other.nextOfType('fine')).toMatchObject({ type: 'fine' });
    other.ws.close(1000);
  });

  it('on SIGTERM closes every socket with 1012, refuses new upgrades with 503, and exits 0', async () => {
    // A long grace, so the test can knock on the instance between its 1012 closes and its exit.
    const d = await stack.start('live', { SHUTDOWN_GRACE_MS: '3000' });
    const clients = await Promise.all([connect(d, 'u1'), connect(d, 'u2'), connect(d, 'u1')]);
    d.process.child.kill('SIGTERM');
    for (const client of clients) expect(await client.closed).toEqual({ code: 1012, reason: 'service_restart' });
    const late = await refusedUpgrade(d.port, `/ws?access_token=${await tokenFor(key)}`);
    expect(late.status).toBe(503);
    expect(JSON.parse(late.body).error.code).toBe('shutting_down');
    const exit = await d.process.exited;
    expect(exit.code, d.process.output()).toBe(0);
  });
});
