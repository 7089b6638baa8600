import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JSONWebKeySet, type JWK } from 'jose';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HttpError } from '../server/http-error.js';
import { TokenVerifier, type TokenVerifierOptions } from './token-verifier.js';

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;
interface SigningKey {
  kid: string;
  pair: KeyPair;
  jwk: JWK;
}

async function signingKey(kid: string): Promise<SigningKey> {
  const pair = await generateKeyPair('EdDSA', { extractable: true });
  const jwk = { ...(await exportJWK(pair.publicKey)), kid, alg: 'EdDSA', use: 'sig' };
  return { kid, pair, jwk };
}

const jwks = (...keys: SigningKey[]): JSONWebKeySet => ({ keys: keys.map((k) => k.jwk) });

interface Claims {
  sub?: string;
  sid?: string;
  iss?: string;
  aud?: string;
  exp?: number | string;
  kid?: string;
}

async function token(key: SigningKey, claims: Claims = {}): Promise<string> {
  const { sub = 'user-1', sid = 'session-1', iss = 'switchyard-auth', aud = 'switchyard', exp = '15m', kid = key.kid } = claims;
  return new SignJWT({ sid })
    .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'JWT' })
    .setSubject(sub)
    .setIssuer(iss)
    .setAudience(aud)
    .setIssuedAt()
    .setExpirationTime(exp)
    .sign(key.pair.privateKey);
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A source that counts its calls and serves whatever `keys` holds at the moment. */
function countingSource(initial: JSONWebKeySet) {
  const state = { keys: initial, calls: 0, fail: false as boolean | Error };
  const source = async () => {
    state.calls += 1;
    if (state.fail) throw state.fail instanceof Error ? state.fail : new Error('auth is down');
    return state.keys;
  };
  return { state, source };
}

async function refusal(promise: Promise<unknown>): Promise<HttpError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HttpError);
  return error as HttpError;
}

let current: SigningKey;
let other: SigningKey;
beforeAll(async () => {
  current = await signingKey('key-1');
  other = await signingKey('key-2');
});

describe('TokenVerifier', () => {
  const make = (options: TokenVerifierOptions = {}, keys = jwks(current)) => {
    const { state, source } = countingSource(keys);
    return { state, verifier: new TokenVerifier(source, options) };
  };

  it('accepts a valid EdDSA token and returns the user and session', async () => {
    const { verifier } = make();
    expect(await verifier.verify(await token(current, { sub: 'u-42', sid: 's-7' }))).toEqual({ id: 'u-42', sessionId: 's-7' });
  });

  it('fetches the key set once and reuses it', async () => {
    const { verifier, state } = make();
    for (let i = 0; i < 5; i++) await verifier.verify(await token(current));
    expect(state.calls).toBe(1);
  });

  it('shares one fetch among concurrent first callers', async () => {
    const { verifier, state } = make();
    const t = await token(current);
    await Promise.all(Array.from({ length: 20 }, () => verifier.verify(t)));
    expect(state.calls).toBe(1);
  });

  it.each([
    ['an empty token', '', 'missing_token'],
    ['garbage', 'not-a-token', 'invalid_token'],
    ['three garbage parts', 'a.b.c', 'invalid_token'],
    ['a JSON header with no signature', `${b64({ alg: 'EdDSA', kid: 'key-1' })}.${b64({ sub: 'x' })}`, 'invalid_token'],
    ['a huge token', 'a'.repeat(100_000), 'invalid_token'],
  ])('refuses %s with 401', async (_what, value, code) => {
    const { verifier } = make();
    const error = await refusal(verifier.verify(value));
    expect(error.status).toBe(401);
    expect(error.code).toBe(code);
  });

  it('refuses alg "none" (an unsigned token claiming any user)', async () => {
    const { verifier } = make();
    const unsigned = `${b64({ alg: 'none', kid: 'key-1', typ: 'JWT' })}.${b64({
      sub: 'admin',
      sid: 's',
      iss: 'switchyard-auth',
      aud: 'switchyard',
      iat: Math.floor(Date.now() / 1000),
      exp: Math.floor(Date.now() / 1000) + 600,
    })}.`;
    const error = await refusal(verifier.verify(unsigned));
    expect([error.status, error.code]).toEqual([401, 'invalid_token']);
  });

  it('refuses an HS256 token signed with the public key as the secret (algorithm confusion)', async () => {
    const { verifier } = make();
    const secret = new TextEncoder().encode(JSON.stringify(current.jwk));
    const hs = await new SignJWT({ sid: 's' })
      .setProtectedHeader({ alg: 'HS256', kid: 'key-1' })
      .setSubject('admin')
      .setIssuer('switchyard-auth')
      .setAudience('switchyard')
      .setIssuedAt()
      .setExpirationTime('15m')
      .sign(secret);
    const error = await refusal(verifier.verify(hs));
    expect([error.status, error.code]).toEqual([401, 'invalid_token']);
  });

  it('refuses a forged token: signed by another key under a known kid', async () => {
    const { verifier } = make();
    const forged = await token(other, { kid: current.kid });
    const error = await refusal(verifier.verify(forged));
    expect([error.status, error.code]).toEqual([401, 'invalid_token']);
    expect(error.message).toContain('bad signature');
  });

  it('refuses a tampered payload', async () => {
    const { verifier } = make();
    const [header, , signature] = (await token(current, { sub: 'u-1' })).split('.');
    const tampered = `${header}.${b64({ sub: 'admin', sid: 's', iss: 'switchyard-auth', aud: 'switchyard', iat: 1, exp: 9999999999 })}.${signature}`;
    const error = await refusal(verifier.verify(tampered));
    expect([error.status, error.code]).toEqual([401, 'invalid_token']);
  });

  it('refuses an expired token with token_expired', async () => {
    const { verifier } = make();
    const expired = await token(current, { exp: Math.floor(Date.now() / 1000) - 60 });
    const error = await refusal(verifier.verify(expired));
    expect([error.status, error.code]).toEqual([401, 'token_expired']);
  });

  it.each([
    ['issuer', { iss: 'someone-else' }],
    ['audience', { aud: 'another-app' }],
  ])('refuses a wrong %s', async (_what, claims) => {
    const { verifier } = make();
    const error = await refusal(verifier.verify(await token(current, claims)));
    expect([error.status, error.code]).toEqual([401, 'invalid_token']);
  });

  it('refuses a token without a session id', async () => {
    const { verifier } = make();
    const noSid = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', kid: current.kid })
      .setSubject('u')
      .setIssuer('switchyard-auth')
      .setAudience('switchyard')
      .setIssuedAt()
      .setExpirationTime('15m')
      .sign(current.pair.privateKey);
    const error = await refusal(verifier.verify(noSid));
    expect([error.status, error.code]).toEqual([401, 'invalid_token']);
  });

  it('refuses an unknown kid after one refetch, and does not refetch again within the interval', async () => {
    const { verifier, state } = make({ refetchMinIntervalMs: 60_000 });
    await verifier.verify(await token(current));
    expect(state.calls).toBe(1);
    // The first verify fetched just now: within the interval an unknown kid costs no fetch.
    for (let i = 0; i < 10; i++) {
      const error = await refusal(verifier.verify(await token(other)));
      expect([error.status, error.code]).toEqual([401, 'invalid_token']);
    }
    expect(state.calls).toBe(1);
  });

  it('picks up a key published after its first fetch (rotation) by refetching on the unknown kid', async () => {
    const { verifier, state } = make({ refetchMinIntervalMs: 0 });
    await verifier.verify(await token(current));
    state.keys = jwks(current, other);
    expect(await verifier.verify(await token(other, { sub: 'rotated' }))).toMatchObject({ id: 'rotated' });
    expect(state.calls).toBe(2);
    // An unknown kid after the interval: one refetch, still unknown, 401.
    const stranger = await signingKey('key-3');
    const error = await refusal(verifier.verify(await token(stranger)));
    expect([error.status, error.code]).toEqual([401, 'invalid_token']);
    expect(state.calls).toBe(3);
  });

  it('asks again at once when its set was empty (auth had no key yet), whatever the interval', async () => {
    const { verifier, state } = make({ refetchMinIntervalMs: 60_000 }, { keys: [] });
    await refusal(verifier.verify(await token(current)));
    state.keys = jwks(current);
    expect(await verifier.verify(await token(current))).toMatchObject({ id: 'user-1' });
  });

  it('answers 503 auth_unavailable when the keys cannot be fetched, without hammering the source, and recovers', async () => {
    const reasons: unknown[] = [];
    const { verifier, state } = make({ retryAfterFailureMs: 60_000, onFetchError: (e) => reasons.push(e) });
    state.fail = true;
    const t = await token(current);
    for (let i = 0; i < 5; i++) {
      const error = await refusal(verifier.verify(t));
      expect([error.status, error.code]).toEqual([503, 'auth_unavailable']);
      expect(error.message).not.toContain('auth is down');
    }
    expect(state.calls).toBe(1);
    expect(reasons).toHaveLength(1);

    const { verifier: quick, state: quickState } = make({ retryAfterFailureMs: 0 });
    quickState.fail = true;
    await refusal(quick.verify(t));
    quickState.fail = false;
    expect(await quick.verify(t)).toMatchObject({ id: 'user-1' });
  });

  it('answers 503 when the source returns something that is not a key set', async () => {
    const verifier = new TokenVerifier(async () => ({ nope: true }) as unknown as JSONWebKeySet);
    const error = await refusal(verifier.verify(await token(current)));
    expect([error.status, error.code]).toEqual([503, 'auth_unavailable']);
  });

  it('answers 503 within its fetch timeout when the source hangs', async () => {
    const verifier = new TokenVerifier(() => new Promise<JSONWebKeySet>(() => undefined), { fetchTimeoutMs: 200 });
    const started = Date.now();
    const error = await refusal(verifier.verify(await token(current)));
    expect([error.status, error.code]).toEqual([503, 'auth_unavailable']);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('keeps verifying with the cached keys when a background refresh of an old set fails', async () => {
    const { verifier, state } = make({ maxAgeMs: 0, retryAfterFailureMs: 0 });
    await verifier.verify(await token(current));
    state.fail = true;
    // The set counts as old once a millisecond has passed (maxAgeMs 0): both calls may otherwise share one.
    const loadedAt = Date.now();
    while (Date.now() <= loadedAt) await new Promise((resolve) => setTimeout(resolve, 1));
    expect(await verifier.verify(await token(current))).toMatchObject({ id: 'user-1' });
    // The refresh runs in the background: wait (bounded) until it was attempted.
    for (let waited = 0; state.calls < 2 && waited < 2_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(state.calls).toBeGreaterThanOrEqual(2);
  });
});

describe('TokenVerifier over HTTP (a real local JWKS endpoint)', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = undefined;
  });

  async function jwksServer(answer: () => { status: number; body: string }): Promise<string> {
    server = createServer((_req, res) => {
      const { status, body } = answer();
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  }

  const fetchSource = (url: string) => async () => {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`JWKS answered ${response.status}`);
    return (await response.json()) as JSONWebKeySet;
  };

  it('verifies against keys served over HTTP, and answers 503 while the endpoint fails', async () => {
    let status = 500;
    const url = await jwksServer(() => ({ status, body: status === 200 ? JSON.stringify(jwks(current)) : '{"error":"boom"}' }));
    const verifier = new TokenVerifier(fetchSource(url), { retryAfterFailureMs: 0 });
    const t = await token(current);
    const error = await refusal(verifier.verify(t));
    expect([error.status, error.code]).toEqual([503, 'auth_unavailable']);
    status = 200;
    expect(await verifier.verify(t)).toEqual({ id: 'user-1', sessionId: 'session-1' });
  });

  it('answers 503 when nothing listens', async () => {
    const url = await jwksServer(() => ({ status: 200, body: '{}' }));
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;
    const verifier = new TokenVerifier(fetchSource(url));
    const error = await refusal(verifier.verify(await token(current)));
    expect([error.status, error.code]).toEqual([503, 'auth_unavailable']);
  });
});
