/**
 * A gateway shutting down (SIGTERM: deregister → grace → drain) still answers what arrives on the
 * connections it already has, and says `connection: close` on each of those answers, so clients
 * and load balancers in front of it move to another instance instead of keeping a connection to
 * one that is about to exit. Both kinds of answer: one the gateway gives itself (express) and one
 * it proxies (its own dispatch, which sets the identity headers after the upstream write).
 */
import http from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { PrivateStack, get } from './upstreams.js';

/** The window the test sends its two requests in: ample for them, and well within the stop's 20 s. */
const GRACE_MS = 5_000;

interface KeptAliveAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Whether the request went out on a connection opened before it (not a new one). */
  reusedSocket: boolean;
}

function request(agent: http.Agent, port: number, path: string, headers: Record<string, string> = {}): Promise<KeptAliveAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent, headers }, (res) => {
      res.resume();
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, reusedSocket: req.reusedSocket }));
      res.once('error', reject);
    });
    req.once('error', reject);
  });
}

describe('a draining gateway (real Consul, SIGTERM)', () => {
  const stack = new PrivateStack();
  afterAll(() => stack.stopAll());

  it('answers on kept-alive connections during its grace with connection: close, its own answers and proxied ones', async () => {
    const [gateway] = await Promise.all([stack.start('gateway', { SHUTDOWN_GRACE_MS: String(GRACE_MS) }), stack.startRngs(1)]);
    await stack.waitFor('a proxied answer', async () => (await get(gateway.port, '/api/v1/rng/8')).status === 200);

    // Two connections opened and left idle before the shutdown begins.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    const warm = await Promise.all([request(agent, gateway.port, '/api/openapi.json'), request(agent, gateway.port, '/api/v1/rng/8')]);
    for (const answer of warm) {
      expect(answer.status).toBe(200);
      expect(answer.headers.connection).not.toBe('close');
    }

    const stopped = gateway.process.stop('SIGTERM');
    await stack.waitFor('the gateway to report draining', async () => {
      const ready = await fetch(`http://127.0.0.1:${gateway.adminPort}/health/ready`).catch(() => undefined);
      return ready?.status === 503;
    });

    const own = await request(agent, gateway.port, '/api/openapi.json', { 'x-request-id': 'draining-own' });
    const proxied = await request(agent, gateway.port, '/api/v1/rng/8', { 'x-request-id': 'draining-proxied' });
    for (const [answer, id] of [[own, 'draining-own'], [proxied, 'draining-proxied']] as const) {
      expect(answer.reusedSocket, id).toBe(true);
      expect(answer.status, id).toBe(200);
      expect(answer.headers.connection, id).toBe('close');
      expect(answer.headers['x-request-id'], id).toBe(id);
      expect(answer.headers['x-gateway'], id).toBe(gateway.serviceId);
    }
    expect(proxied.headers['x-served-by']).toMatch(/^rng/);
    agent.destroy();

    // Then the grace runs out, and the drain finds no connection left open.
    const exit = await stopped;
    expect(exit.code).toBe(0);
  });
});
