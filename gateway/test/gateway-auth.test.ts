/**
 * The token check at the edge (real gateway, real Consul): on routes that need a user, every kind
 * of bad token is answered 401 JSON before any upstream call, HTTP and WebSocket alike; a good one
 * passes with Authorization unchanged and every client-written identity header stripped; and the
 * key set is fetched from auth once, not per request. auth is the stand-in fixture publishing a
 * key set whose private half this test holds, so it can sign expired and wrong-kid tokens.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PrivateStack, get, json, metric, send, type Running } from './upstreams.js';
import { accessToken, jwksOf, signingKey, tamperedToken, unsignedToken, type SigningKey } from './tokens.js';
import { upgradeRequest } from '../../test/support/upgrade-request.js';

/** What a client could write to pass for someone else. */
const IDENTITY_CLAIMS = {
  'x-user-id': 'admin',
  'x-user': 'admin',
  'x-authenticated-user': 'admin',
  'x-auth-user-id': 'admin',
  'x-remote-user': 'admin',
  'x-forwarded-user': 'admin',
};

describe('gateway token check (real Consul)', () => {
  const stack = new PrivateStack();
  let gateway: Running;
  let auth: Running;
  let key: SigningKey;
  /** Never published: what a forger signs with. */
  let forgerKey: SigningKey;
  let badTokens: Array<[string, string, string[]]>;

  const echoCalls = () => metric(gateway.adminPort!, 'switchyard_upstream_requests_total', { service: `echo${stack.suffix}` });
  const standIn = async () => json(await get(auth.port, '/__calls')) as { calls: number; jwksFetches: number };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    [key, forgerKey] = await Promise.all([signingKey(), signingKey()]);
    [gateway, , auth] = await Promise.all([
      stack.start('gateway-with-echo'),
      stack.startPassing('echo', 1),
      stack.start('stand-in', { STAND_IN_NAME: 'auth', STAND_IN_JWKS: jwksOf(key) }),
    ]);
    await stack.waitPassing('auth', (ids) => ids.includes(auth.serviceId));
    const good = await accessToken(key);
    await stack.waitFor('a good token to pass the gateway', async () => (await get(gateway.port, '/test/user/headers', bearer(good))).status === 200);
    const user = randomUUID();
    badTokens = [
      // [what, Authorization header, acceptable error codes]
      ['no header', '', ['missing_token']],
      ['another scheme', 'Basic dXNlcjpwYXNzd29yZA==', ['invalid_token']],
      ['garbage', 'Bearer not-a-token', ['invalid_token']],
      ['characters no JWT has', 'Bearer abc.def.ghi;x=1', ['invalid_token']],
      ['alg none', `Bearer ${unsignedToken(key.kid, user)}`, ['invalid_token']],
      ['signed by another key under the real kid', `Bearer ${await accessToken({ ...forgerKey, kid: key.kid }, { sub: user })}`, ['invalid_token']],
      ['an unknown kid', `Bearer ${await accessToken(forgerKey, { sub: user })}`, ['invalid_token']],
      ['expired', `Bearer ${await accessToken(key, { sub: user, expiresIn: -120 })}`, ['token_expired', 'invalid_token']],
      ['another user put in a signed token', `Bearer ${tamperedToken(good, user)}`, ['invalid_token']],
      ['the wrong issuer', `Bearer ${await accessToken(key, { issuer: 'someone-else' })}`, ['invalid_token']],
      ['the wrong audience', `Bearer ${await accessToken(key, { audience: 'another-api' })}`, ['invalid_token']],
      ['a truncated token', `Bearer ${good.slice(0, -10)}`, ['invalid_token']],
    ];
  });
  afterAll(() => stack.stopAll());

  it('answers 401 JSON with a challenge for every bad token, and no upstream is called', async () => {
    const echoBefore = await echoCalls();
    const authBefore = (await standIn()).calls;
    for (const [what, authorization, codes] of badTokens) {
      const headers: Record<string, string> = authorization ? { authorization } : {};
      for (const answer of [
        await get(gateway.port, '/test/user/headers', headers),
        await send(gateway.port, '/test/user/echo', { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{}' }),
        await get(gateway.port, '/api/v1/auth/me', headers),
        // No social instance runs: past the token check this would be 503.
        await get(gateway.port, '/api/v1/social/feed', headers),
      ]) {
        expect(answer.status, what).toBe(401);
        expect(answer.headers.get('content-type'), what).toMatch(/^application\/json/);
        expect(codes, what).toContain(json(answer).error.code);
        expect(answer.headers.get('www-authenticate'), what).toMatch(/^Bearer realm="switchyard"/);
        expect(answer.headers.get('x-gateway'), what).toBe(gateway.serviceId);
      }
    }
    expect(await echoCalls()).toBe(echoBefore);
    expect((await standIn()).calls).toBe(authBefore);
  });

  it('passes a good token: Authorization forwarded unchanged, identity headers a client wrote stripped', async () => {
    const token = await accessToken(key);
    const answer = await get(gateway.port, '/test/user/headers', { ...bearer(token), ...IDENTITY_CLAIMS });
    expect(answer.status).toBe(200);
    const received = json(answer).headers as Record<string, string>;
    expect(received.authorization).toBe(`Bearer ${token}`);
    for (const name of Object.keys(IDENTITY_CLAIMS)) expect(received, name).not.toHaveProperty(name);

    // On public routes too: nobody upstream ever reads a claimed identity.
    const open = json(await get(gateway.port, '/test/headers', IDENTITY_CLAIMS)).headers as Record<string, string>;
    for (const name of Object.keys(IDENTITY_CLAIMS)) expect(open, name).not.toHaveProperty(name);

    const me = await get(gateway.port, '/api/v1/auth/me', bearer(token));
    expect(me.status).toBe(200);
    expect(json(me)).toMatchObject({ method: 'GET', url: '/me', headers: { authorization: `Bearer ${token}` } });
  });

  it('verifies locally: many requests with fresh tokens cost no call to auth for keys', async () => {
    const before = await standIn();
    for (let i = 0; i < 20; i += 1) {
      expect((await get(gateway.port, '/test/user/headers', bearer(await accessToken(key)))).status).toBe(200);
    }
    const after = await standIn();
    expect(after.jwksFetches).toBe(before.jwksFetches);
    expect(after.calls).toBe(before.calls);
  });

  it('checks the token of a WebSocket upgrade the same way, before any upstream call', async () => {
    const echoBefore = await echoCalls();
    for (const [what, authorization, codes] of badTokens) {
      const refused = await upgradeRequest(gateway.port, '/test/user/ws', authorization ? { authorization } : {});
      expect(refused.status, what).toBe(401);
      expect(codes, what).toContain(JSON.parse(refused.body).error.code);
      expect(refused.headers['www-authenticate'], what).toMatch(/^Bearer/);
    }
    expect(await echoCalls()).toBe(echoBefore);

    const socket = new WebSocket(`ws://127.0.0.1:${gateway.port}/test/user/ws`, { headers: bearer(await accessToken(key)) });
    const messages: string[] = [];
    socket.on('message', (data) => messages.push(String(data)));
    await new Promise<void>((resolve, reject) => socket.once('open', resolve).once('error', reject));
    // The echo instance greets with the path it was asked for, then echoes.
    await stack.waitFor('the greeting', () => messages.length >= 1);
    expect(JSON.parse(messages[0]!)).toEqual({ url: '/ws' });
    socket.send('hello');
    await stack.waitFor('the echo', () => messages.includes('hello'));
    socket.close();
  });
});
