/**
 * ctx.tokenVerifier() end to end: a service behind requireUser fetches the signing keys from
 * `auth` through Consul discovery (a fixture serving a JWKS stands in for auth), verifies tokens
 * locally, refetches on a new key id without hammering auth, and answers 503 (never 500) while
 * no auth instance can give it the keys.
 */
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { IsolatedStack } from '../../test/support/isolated-stack.js';

const ENTRIES = { auth: 'infra/test/fixtures/jwks-service.ts', protected: 'infra/test/fixtures/protected-service.ts' };

interface Key {
  kid: string;
  privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  jwk: JWK;
}

async function key(kid: string): Promise<Key> {
  const pair = await generateKeyPair('EdDSA');
  return { kid, privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid, alg: 'EdDSA', use: 'sig' } };
}

function sign(k: Key, sub = 'user-1', expiresIn: string | number = '15m'): Promise<string> {
  return new SignJWT({ sid: 'session-1' })
    .setProtectedHeader({ alg: 'EdDSA', kid: k.kid })
    .setSubject(sub)
    .setIssuer('switchyard-auth')
    .setAudience('switchyard')
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(k.privateKey);
}

let k1: Key;
let k2: Key;
let stack: IsolatedStack<keyof typeof ENTRIES>;

beforeAll(async () => {
  k1 = await key('k1');
  k2 = await key('k2');
});

afterEach(async () => {
  await stack?.stopAll();
});

const me = (url: string, token?: string) =>
  fetch(`${url}/me`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

async function jwksFetches(authUrl: string): Promise<number> {
  return ((await (await fetch(`${authUrl}/admin/fetches`)).json()) as { fetches: number }).fetches;
}

describe('ctx.tokenVerifier() through discovery', () => {
  it('verifies tokens with the keys of a discovered auth instance; bad tokens get 401 JSON', async () => {
    stack = new IsolatedStack(ENTRIES);
    const [auth] = await stack.startPassing('auth', 1, { FIXTURE_JWKS: JSON.stringify({ keys: [k1.jwk] }) });
    const service = await stack.start('protected');

    const ok = await stack.waitFor('the first verified call', async () => {
      const response = await me(service.url, await sign(k1, 'ada'));
      return response.status === 200 && response;
    });
    expect(await ok.json()).toEqual({ id: 'ada', sessionId: 'session-1' });

    const forged = await sign(await key('k1'));
    const expired = await sign(k1, 'ada', Math.floor(Date.now() / 1000) - 120);
    for (const [token, code] of [
      [undefined, 'missing_token'],
      ['not.a.token', 'invalid_token'],
      [forged, 'invalid_token'],
      [expired, 'token_expired'],
    ] as const) {
      const response = await me(service.url, token);
      expect(response.status, String(token)).toBe(401);
      expect(await response.json()).toMatchObject({ error: { code } });
    }

    // A burst of tokens naming a kid nobody published: at most one extra trip to auth.
    const before = await jwksFetches(auth.url);
    const stranger = await sign(await key('nobody'));
    for (let i = 0; i < 20; i++) expect((await me(service.url, stranger)).status).toBe(401);
    expect((await jwksFetches(auth.url)) - before).toBeLessThanOrEqual(1);
  });

  it('picks up a key auth publishes later (rotation), refetching at most once per interval', async () => {
    stack = new IsolatedStack(ENTRIES);
    const [auth] = await stack.startPassing('auth', 1, { FIXTURE_JWKS: JSON.stringify({ keys: [k1.jwk] }) });
    const service = await stack.start('protected');
    await stack.waitFor('the first verified call', async () => (await me(service.url, await sign(k1))).status === 200);

    await fetch(`${auth.url}/admin/jwks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ keys: [k1.jwk, k2.jwk] }),
    });
    const rotated = await sign(k2, 'grace');
    const answer = await stack.waitFor(
      'a token signed with the new key to be accepted',
      async () => {
        const response = await me(service.url, rotated);
        expect([200, 401]).toContain(response.status);
        return response.status === 200 && response;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(await answer.json()).toMatchObject({ id: 'grace' });
    // ~100 polls at most in the refetch interval, but only the first fetch and one refetch (plus
    // one for the first call above, racing its registration) reached auth.
    expect(await jwksFetches(auth.url)).toBeLessThanOrEqual(3);
  });

  it('answers 503 auth_unavailable while no auth instance can serve the keys, and recovers by itself', async () => {
    stack = new IsolatedStack(ENTRIES);
    const service = await stack.start('protected');
    const token = await sign(k1);

    // No auth instance registered at all.
    const none = await me(service.url, token);
    expect(none.status).toBe(503);
    expect(await none.json()).toMatchObject({ error: { code: 'auth_unavailable' } });

    // An auth instance that fails the JWKS request: still 503, not 500.
    const [auth] = await stack.startPassing('auth', 1, { FIXTURE_JWKS: JSON.stringify({ keys: [k1.jwk] }) });
    await fetch(`${auth.url}/admin/failing`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ failing: true }),
    });
    // Each call either asks auth (once the verifier's short back-off after the failure above has
    // passed) or answers from that back-off: 503 either way, until auth has been asked and failed.
    await stack.waitFor(
      'a call that asked the failing auth',
      async () => {
        const response = await me(service.url, token);
        expect(response.status).toBe(503);
        expect(await response.json()).toMatchObject({ error: { code: 'auth_unavailable' } });
        return (await jwksFetches(auth.url)) > 0;
      },
      { intervalMs: 200 },
    );

    await fetch(`${auth.url}/admin/failing`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ failing: false }),
    });
    await stack.waitFor('the service to verify tokens again', async () => (await me(service.url, token)).status === 200, {
      intervalMs: 200,
    });
  });
});
