/**
 * The access token of a WebSocket upgrade in the query (browsers cannot set headers on a
 * WebSocket), through the real gateway: a good `access_token` is relayed with the query forwarded
 * unchanged (the service verifies again); none, or a bad one, is refused 401 before any instance
 * is chosen; the token never appears in the gateway's output. auth is the stand-in publishing a
 * key set this test signs with.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PrivateStack, metric, type Running } from './upstreams.js';
import { accessToken, signingKey, type SigningKey, jwksOf } from './tokens.js';
import { upgradeRequest } from '../../test/support/upgrade-request.js';

describe('gateway upgrade with the token in the query (real Consul)', () => {
  const stack = new PrivateStack();
  let gateway: Running;
  let key: SigningKey;
  const echoCalls = () => metric(gateway.adminPort!, 'switchyard_upstream_requests_total', { service: `echo${stack.suffix}` });

  /** Opens a socket through the gateway and returns the echo instance's greeting (the URL it was asked for). */
  const greeting = async (path: string, headers: Record<string, string> = {}) => {
    const socket = new WebSocket(`ws://127.0.0.1:${gateway.port}${path}`, { headers });
    const first = new Promise<string>((resolve) => socket.once('message', (data) => resolve(String(data))));
    await new Promise<void>((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const url = (JSON.parse(await first) as { url: string }).url;
    socket.close(1000);
    return url;
  };

  beforeAll(async () => {
    key = await signingKey();
    let auth: Running;
    [gateway, , auth] = await Promise.all([
      stack.start('gateway-with-echo'),
      stack.startPassing('echo', 1),
      stack.start('stand-in', { STAND_IN_NAME: 'auth', STAND_IN_JWKS: jwksOf(key) }),
    ]);
    await stack.waitPassing('auth', (ids) => ids.includes(auth.serviceId));
    const token = await accessToken(key);
    await stack.waitFor('a socket with a query token to be relayed', async () => {
      try {
        return (await greeting(`/test/user/ws?access_token=${token}`)) !== undefined;
      } catch {
        return false;
      }
    });
  });
  afterAll(() => stack.stopAll());

  it('relays an upgrade whose token is in the query, the query forwarded unchanged', async () => {
    const token = await accessToken(key);
    expect(await greeting(`/test/user/ws?room=7&access_token=${token}`)).toBe(`/ws?room=7&access_token=${token}`);
    // The header wins when both are given (the service reads them by the same rule).
    const other = await accessToken(key);
    expect(await greeting(`/test/user/ws?access_token=garbage`, { authorization: `Bearer ${other}` })).toBe('/ws?access_token=garbage');
    expect(gateway.process.output()).not.toContain(token);
    expect(gateway.process.output()).not.toContain(other);
  });

  it('refuses 401 without a token, or with a bad one in the query, before any instance is chosen', async () => {
    const before = await echoCalls();
    const expired = await accessToken(key, { expiresIn: -120 });
    for (const [what, path, code] of [
      ['no token', '/test/user/ws?room=7', 'missing_token'],
      ['an empty token', '/test/user/ws?access_token=', 'missing_token'],
      ['garbage', '/test/user/ws?access_token=not-a-token', 'invalid_token'],
      ['characters no token has', '/test/user/ws?access_token=a.b.c%3Bx', 'invalid_token'],
      ['two tokens', `/test/user/ws?access_token=${expired}&access_token=${expired}`, 'invalid_token'],
      ['an expired token', `/test/user/ws?access_token=${expired}`, 'token_expired'],
    ] as const) {
      const refused = await upgradeRequest(gateway.port, path);
      expect(refused.status, what).toBe(401);
      expect(JSON.parse(refused.body).error.code, what).toBe(code);
      expect(refused.headers['www-authenticate'], what).toMatch(/^Bearer realm="switchyard"/);
      expect(refused.headers['x-gateway'], what).toBe(gateway.serviceId);
    }
    expect(await echoCalls()).toBe(before);
    expect(gateway.process.output()).not.toContain(expired);
  });
});
