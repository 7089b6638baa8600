/**
 * What the gateway answers when it cannot or must not call an upstream: 503 with the service
 * when none is passing, 400 for bad input (no upstream call), 404 JSON for unknown routes, 504
 * when the upstream is too slow; and the identity headers (x-request-id, x-gateway) on proxied
 * answers and on every refusal.
 *
 * No test depends on another (`vitest run --sequence.shuffle` passes): the tests that need no
 * upstream share a gateway whose stack never starts one, and every test that starts upstreams
 * has a stack of its own.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PrivateStack, get, json, type Running } from './upstreams.js';

/** Far beyond the rng route's 6 s deadline. */
const SLOW_RNG_MS = 15_000;

describe('gateway answers without a usable upstream (real Consul)', () => {
  /** Never starts an upstream: no rng, no webui is ever passing here. */
  const stack = new PrivateStack();
  let gateway: Running;

  beforeAll(async () => {
    gateway = await stack.start('gateway');
  });
  afterAll(() => stack.stopAll());

  it('answers 503 no_healthy_instance naming the service when no instance is passing', async () => {
    const answer = await get(gateway.port, '/api/v1/rng/8', { 'x-request-id': 'refused-503' });
    expect(answer.status).toBe(503);
    expect(answer.headers.get('x-request-id')).toBe('refused-503');
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(json(answer)).toEqual({
      error: { code: 'no_healthy_instance', service: `rng${stack.suffix}`, message: expect.stringContaining(`rng${stack.suffix}`) },
    });
    expect(answer.headers.get('x-gateway')).toBe(gateway.serviceId);

    const stats = await get(gateway.port, '/api/v1/miner/stats');
    expect(stats.status).toBe(503);
    // None sent: the gateway names the request itself.
    expect(stats.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(json(stats).error).toMatchObject({ code: 'no_healthy_instance', service: `webui${stack.suffix}` });
  });

  it.each(['0', '1025', 'abc', '-3', '1e2', '0x10', '8.5'])('answers 400 for n=%s, without needing an upstream', async (n) => {
    const answer = await get(gateway.port, `/api/v1/rng/${n}`, { 'x-request-id': `refused-400-${n}` });
    expect(answer.status).toBe(400);
    expect(answer.headers.get('x-request-id')).toBe(`refused-400-${n}`);
    expect(answer.headers.get('x-gateway')).toBe(gateway.serviceId);
    expect(json(answer)).toEqual({ error: { code: 'invalid_request', message: 'n: must be a whole number from 1 to 1024' } });
  });

  it('answers 404 JSON for an unknown route', async () => {
    for (const path of ['/api/v1/nope', '/api/v1/rng', '/api/v1/rng/8/extra', '/']) {
      const answer = await get(gateway.port, path);
      expect(answer.status, path).toBe(404);
      expect(json(answer).error.code, path).toBe('not_found');
    }
  });
});

describe('gateway in front of its upstreams (real Consul): a private stack per test', () => {
  let stack: PrivateStack;
  beforeEach(() => {
    stack = new PrivateStack();
  });
  afterEach(() => stack.stopAll());

  it('relays the answer of the instance that served it, with its x-served-by', async () => {
    const [gateway, [rng]] = await Promise.all([stack.start('gateway'), stack.startRngs(1)]);
    const answer = await stack.waitFor('a proxied answer', async () => {
      const a = await get(gateway.port, '/api/v1/rng/16', { 'x-request-id': 'gateway-test-1' });
      return a.status === 200 && a;
    });
    expect(answer.body.length).toBe(16);
    expect(answer.headers.get('x-served-by')).toBe(rng.serviceId);
    expect(answer.headers.get('x-gateway')).toBe(gateway.serviceId);
    expect(answer.headers.get('x-request-id')).toBe('gateway-test-1');
    expect(answer.headers.get('transfer-encoding')).toBe(null);
  });

  it('answers 504 upstream_timeout with the reason when rng is slower than the route allows', async () => {
    // Passing before the gateway starts, so the gateway's first view of rng already holds it.
    const [slow] = await stack.startRngs(1, { RNG_DELAY_MS: String(SLOW_RNG_MS) });
    const gateway = await stack.start('gateway');
    const started = Date.now();
    const answer = await get(gateway.port, '/api/v1/rng/8', { 'x-request-id': 'refused-504' });
    expect(answer.status).toBe(504);
    expect(answer.headers.get('x-request-id')).toBe('refused-504');
    expect(answer.headers.get('x-gateway')).toBe(gateway.serviceId);
    expect(json(answer).error).toMatchObject({ code: 'upstream_timeout', service: `rng${stack.suffix}` });
    expect(json(answer).error.message).toContain(slow.serviceId);
    // The gateway gave up on its own deadline (6 s), long before rng would have answered.
    expect(Date.now() - started).toBeLessThan(SLOW_RNG_MS);
  });

  it('proxies the miner stats to webui /api/stats', async () => {
    const [gateway, webui] = await Promise.all([stack.start('gateway'), stack.start('webui', { PORT: '0' })]);
    const answer = await stack.waitFor('webui stats through the gateway', async () => {
      const a = await get(gateway.port, '/api/v1/miner/stats');
      return a.status === 200 && a;
    });
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.headers.get('x-served-by')).toBe(webui.serviceId);
    expect(json(answer)).toHaveProperty('hashesPerSecond');
  });
});
