/**
 * Rate limits at the edge (real gateways, real Redis and Consul): the per-client allowance is
 * shared by every gateway instance, a refusal is 429 JSON with Retry-After, X-Forwarded-For names
 * the client only when it comes from a trusted proxy, and signed-in users have an allowance of
 * their own whatever address they use. Each stack's counters are its own (SERVICE_NAME_SUFFIX is
 * in the Redis key), so the limits here are tiny without touching any other test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateStack, get, json, metric, type Answer, type Running } from './upstreams.js';
import { accessToken, jwksOf, signingKey, type SigningKey } from './tokens.js';
import { upgradeRequest } from '../../test/support/upgrade-request.js';

/** A route the gateway answers itself: no upstream needed to count a request. */
const CHEAP = '/api/openapi.json';

function expectRateLimited(answer: Answer, gateway: Running): void {
  expect(answer.status).toBe(429);
  expect(json(answer).error.code).toBe('rate_limited');
  const retryAfter = Number(answer.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(answer.headers.get('x-gateway')).toBe(gateway.serviceId);
  expect(answer.headers.get('x-request-id')).toBeTruthy();
}

/**
 * Waits until each gateway counts in Redis: until its limiter's connection is ready, requests are
 * counted by the instance alone (by design: readiness never waits for Redis), so a count begun
 * earlier would be split between memory and Redis.
 */
async function sharingLimits(stack: PrivateStack, ...gateways: Running[]): Promise<void> {
  await stack.waitFor('rate limits counted in Redis', async () => {
    const shared = await Promise.all(gateways.map((gateway) => metric(gateway.adminPort!, 'switchyard_gateway_rate_limits_shared')));
    return shared.every((value) => value === 1);
  });
}

describe('per-client limits shared by every gateway instance (real Redis)', () => {
  const stack = new PrivateStack();
  let gateways: Running[];

  beforeAll(async () => {
    gateways = await Promise.all([1, 2].map(() => stack.start('gateway', { RATE_LIMIT_PER_MINUTE: '6' })));
    await sharingLimits(stack, ...gateways);
  });
  afterAll(() => stack.stopAll());

  it('counts requests to both instances against one allowance, then answers 429 with Retry-After on either', async () => {
    const [first, second] = gateways as [Running, Running];
    for (let i = 0; i < 3; i += 1) {
      expect((await get(first.port, CHEAP)).status).toBe(200);
      expect((await get(second.port, CHEAP)).status).toBe(200);
    }
    expectRateLimited(await get(first.port, CHEAP), first);
    expectRateLimited(await get(second.port, CHEAP), second);
    // Every path counts, unknown ones included: probing for routes is not free.
    expectRateLimited(await get(first.port, '/api/v1/nope'), first);
    // And upgrade requests, answered before any route or upstream is looked at.
    const upgrade = await upgradeRequest(second.port, '/api/v1/miner/stats');
    expect(upgrade.status).toBe(429);
    expect(JSON.parse(upgrade.body).error.code).toBe('rate_limited');
    expect(Number(upgrade.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });
});

describe('the client address behind a trusted proxy (real Redis)', () => {
  const stack = new PrivateStack();
  /** A stack of its own: its counters must not be the ones behindProxy fills. */
  const exposedStack = new PrivateStack();
  let behindProxy: Running;
  let exposed: Running;

  beforeAll(async () => {
    [behindProxy, exposed] = await Promise.all([
      stack.start('gateway', { RATE_LIMIT_PER_MINUTE: '2', TRUSTED_PROXIES: '127.0.0.1' }),
      exposedStack.start('gateway', { RATE_LIMIT_PER_MINUTE: '2' }),
    ]);
    await Promise.all([sharingLimits(stack, behindProxy), sharingLimits(exposedStack, exposed)]);
  });
  afterAll(() => Promise.all([stack.stopAll(), exposedStack.stopAll()]));

  it('counts each client a trusted proxy names on its own', async () => {
    const from = (address: string) => ({ 'x-forwarded-for': address });
    for (let i = 0; i < 2; i += 1) expect((await get(behindProxy.port, CHEAP, from('203.0.113.1'))).status).toBe(200);
    expectRateLimited(await get(behindProxy.port, CHEAP, from('203.0.113.1')), behindProxy);
    // A client that prepends an address of its choice is still counted as itself.
    expectRateLimited(await get(behindProxy.port, CHEAP, from('198.51.100.7, 203.0.113.1')), behindProxy);
    expect((await get(behindProxy.port, CHEAP, from('203.0.113.2'))).status).toBe(200);
  });

  it('ignores X-Forwarded-For from anyone else: a client cannot buy a fresh allowance by naming another address', async () => {
    expect((await get(exposed.port, CHEAP, { 'x-forwarded-for': '203.0.113.10' })).status).toBe(200);
    expect((await get(exposed.port, CHEAP, { 'x-forwarded-for': '203.0.113.11' })).status).toBe(200);
    expectRateLimited(await get(exposed.port, CHEAP, { 'x-forwarded-for': '203.0.113.12' }), exposed);
  });
});

describe('per-user limits (real Redis)', () => {
  const stack = new PrivateStack();
  let gateway: Running;
  let key: SigningKey;

  beforeAll(async () => {
    key = await signingKey();
    let auth: Running;
    [gateway, auth] = await Promise.all([
      stack.start('gateway', { RATE_LIMIT_USER_PER_MINUTE: '3' }),
      stack.start('stand-in', { STAND_IN_NAME: 'auth', STAND_IN_JWKS: jwksOf(key) }),
    ]);
    await stack.waitPassing('auth', (ids) => ids.includes(auth.serviceId));
    await sharingLimits(stack, gateway);
  });
  afterAll(() => stack.stopAll());

  it("gives each user an allowance of their own, whatever tokens they hold; others are not affected", async () => {
    const ada = 'a0000000-0000-4000-8000-000000000001';
    const bob = 'b0000000-0000-4000-8000-000000000002';
    const me = async (sub: string) => get(gateway.port, '/api/v1/auth/me', { authorization: `Bearer ${await accessToken(key, { sub })}` });
    // The first calls may wait for the key set and the auth instance: a third user warms up.
    await stack.waitFor('a first signed-in call', async () => (await me('c0000000-0000-4000-8000-000000000003')).status === 200);
    for (let i = 0; i < 3; i += 1) expect((await me(ada)).status).toBe(200);
    // A fresh token (another session) of the same user shares the allowance.
    expectRateLimited(await me(ada), gateway);
    expect((await me(bob)).status).toBe(200);
  });
});

describe('without Redis', () => {
  const stack = new PrivateStack();
  let gateway: Running;

  beforeAll(async () => {
    // Nothing listens on port 1: the limiter's store is down from the start.
    gateway = await stack.start('gateway', { RATE_LIMIT_PER_MINUTE: '3', REDIS_URL: 'redis://127.0.0.1:1' });
  });
  afterAll(() => stack.stopAll());

  it('stays ready and keeps limiting, each instance counting alone in memory', async () => {
    const ready = await get(gateway.adminPort!, '/health/ready');
    expect(ready.status).toBe(200);
    // And says so on /metrics: the limits are this instance's own.
    expect(await metric(gateway.adminPort!, 'switchyard_gateway_rate_limits_shared')).toBe(0);
    const started = Date.now();
    for (let i = 0; i < 3; i += 1) expect((await get(gateway.port, CHEAP)).status).toBe(200);
    expectRateLimited(await get(gateway.port, CHEAP), gateway);
    // No request waited for a store that is not there (generous bound for a loaded machine).
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
