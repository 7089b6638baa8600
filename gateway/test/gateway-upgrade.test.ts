/**
 * WebSocket through the gateway: an upgrade on a route of the table reaches an instance of its
 * service (path and query forwarded), messages cross both ways, and a close on either side (clean
 * or abrupt) reaches the other. Refusals and unknown paths get plain HTTP answers. Real gateway,
 * real echo instances with a WebSocket server, real Consul; the client is Node's own WebSocket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/support/wait.js';
import { PrivateStack, get, json, metric, type Running } from './upstreams.js';
import { upgradeRequest } from '../../test/support/upgrade-request.js';

interface Closed {
  code: number;
  reason: string;
  wasClean: boolean;
}

/** A WebSocket client that queues what it receives, so a test can await messages in order. */
class TestSocket {
  readonly socket: WebSocket;
  private readonly received: string[] = [];
  private waiting: Array<(message: string) => void> = [];
  readonly closed: Promise<Closed>;
  readonly opened: Promise<void>;

  constructor(url: string) {
    this.socket = new WebSocket(url);
    this.socket.binaryType = 'arraybuffer';
    this.opened = new Promise((resolve, reject) => {
      this.socket.addEventListener('open', () => resolve(), { once: true });
      this.socket.addEventListener('error', () => reject(new Error(`could not open ${url}`)), { once: true });
    });
    this.closed = new Promise((resolve) => {
      this.socket.addEventListener('close', (event) => resolve({ code: event.code, reason: event.reason, wasClean: event.wasClean }), { once: true });
    });
    this.socket.addEventListener('message', (event) => {
      const text = typeof event.data === 'string' ? event.data : `binary:${Buffer.from(event.data as ArrayBuffer).toString('hex')}`;
      const waiter = this.waiting.shift();
      if (waiter) waiter(text);
      else this.received.push(text);
    });
  }

  next(): Promise<string> {
    const queued = this.received.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}

describe('gateway WebSocket relay (real Consul)', () => {
  const stack = new PrivateStack();
  let gateway: Running;
  let echo: Running;
  const wsUrl = (path: string) => `ws://127.0.0.1:${gateway.port}${path}`;
  const closesSeenByEcho = async () => json(await get(echo.port, '/ws/closes')).closes as Array<{ code: number; reason: string }>;

  beforeAll(async () => {
    [gateway, [echo]] = await Promise.all([stack.start('gateway-with-echo'), stack.startPassing('echo', 1)]);
    await waitFor('the gateway to see the echo instance', async () => {
      return (await metric(gateway.adminPort!, 'switchyard_watcher_healthy_instances', { service: `echo${stack.suffix}` })) === 1;
    });
  });
  afterAll(() => stack.stopAll());

  it('relays messages both ways, with the path and query forwarded, and a client close reaches the instance', async () => {
    const client = new TestSocket(wsUrl('/test/ws?room=42'));
    await client.opened;
    expect(JSON.parse(await client.next())).toEqual({ url: '/ws?room=42' });
    client.socket.send('hello');
    expect(await client.next()).toBe('hello');
    client.socket.send(new Uint8Array([0, 1, 2, 255]));
    expect(await client.next()).toBe('binary:000102ff');
    const before = (await closesSeenByEcho()).length;
    client.socket.close(1000, 'done');
    expect(await client.closed).toEqual({ code: 1000, reason: 'done', wasClean: true });
    const closes = await waitFor('the instance to see the close', async () => {
      const all = await closesSeenByEcho();
      return all.length > before && all;
    });
    expect(closes.at(-1)).toEqual({ code: 1000, reason: 'done' });
  });

  it("passes the instance's own close to the client, code and reason", async () => {
    const client = new TestSocket(wsUrl('/test/ws'));
    await client.opened;
    await client.next();
    client.socket.send('close-please');
    expect(await client.closed).toEqual({ code: 4000, reason: 'bye', wasClean: true });
  });

  it('cuts the client when the instance drops the connection: no clean close', async () => {
    const client = new TestSocket(wsUrl('/test/ws'));
    await client.opened;
    await client.next();
    client.socket.send('drop-please');
    const closed = await client.closed;
    expect(closed.wasClean).toBe(false);
    expect(closed.code).toBe(1006);
  });

  it("relays an instance's refusal to upgrade, and answers 404 for a path that is no route", async () => {
    expect(await upgradeRequest(gateway.port, '/test/not-a-socket')).toMatchObject({ status: 400, body: 'not a socket!' });
    const unknown = await upgradeRequest(gateway.port, '/test/nowhere');
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body).error.code).toBe('not_found');
  });

  it('counts nothing against the instance and leaves no tunnel behind', async () => {
    const clients = Array.from({ length: 5 }, () => new TestSocket(wsUrl('/test/ws')));
    await Promise.all(clients.map((c) => c.opened));
    await Promise.all(clients.map((c) => c.next()));
    expect(await metric(gateway.adminPort!, 'switchyard_gateway_open_tunnels')).toBe(5);
    for (const c of clients) c.socket.close(1000);
    await Promise.all(clients.map((c) => c.closed));
    await waitFor('every tunnel to be closed', async () => (await metric(gateway.adminPort!, 'switchyard_gateway_open_tunnels')) === 0);
    expect(await metric(gateway.adminPort!, 'switchyard_upstream_breaker_state', { instance: echo.serviceId })).toBe(0);
    expect(await metric(gateway.adminPort!, 'switchyard_upstream_requests_total', { service: `echo${stack.suffix}`, outcome: 'ok' })).toBeGreaterThanOrEqual(5);
  });

  it('a gateway that stops cuts its open tunnels and exits at once, without waiting for its hard timeout', async () => {
    // A gateway of its own: this one is stopped.
    const leaving = await stack.start('gateway-with-echo', { SHUTDOWN_TIMEOUT_MS: '20000' });
    await waitFor('the leaving gateway to see the echo instance', async () => {
      return (await metric(leaving.adminPort!, 'switchyard_watcher_healthy_instances', { service: `echo${stack.suffix}` })) === 1;
    });
    const client = new TestSocket(`ws://127.0.0.1:${leaving.port}/test/ws`);
    await client.opened;
    await client.next();
    const stoppedAt = Date.now();
    leaving.process.child.kill('SIGTERM');
    const closed = await client.closed;
    expect(closed.code).not.toBe(1000);
    const { code } = await leaving.process.exited;
    expect(code, leaving.process.output()).toBe(0);
    // Well before the 20 s hard timeout that a tunnel left open would run into.
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
  });
});
