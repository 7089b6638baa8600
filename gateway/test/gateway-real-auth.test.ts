/**
 * The token check against the real auth service (real MariaDB, Redis, Consul): a token auth
 * signed passes the gateway and reaches auth unchanged; the same claims unsigned (`alg: none`),
 * or re-signed by anyone else, are refused at the edge with 401. The exhaustive matrix of bad
 * tokens is gateway-auth.test.ts, against a key set the test controls.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../test/support/processes.js';
import { PrivateStack, get, json, send, type Running } from './upstreams.js';
import { accessToken, signingKey, tamperedToken, unsignedToken } from './tokens.js';

describe('gateway token check with the real auth service', () => {
  const stack = new PrivateStack();
  let gateway: Running;
  let token: string;
  let userId: string;

  beforeAll(async () => {
    execFileSync(process.execPath, ['--import', 'tsx', 'scripts/migrate.ts'], { cwd: REPO_ROOT, stdio: 'pipe' });
    const authEnv = { AUTH_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'), AUTH_REDIS_PREFIX: `${stack.redisPrefix}auth:` };
    [gateway] = await Promise.all([stack.start('gateway'), stack.startPassing('auth', 1, authEnv)]);
    const email = `gw-${randomUUID().slice(0, 8)}@real-auth.test`;
    const password = 'correct horse battery staple';
    const body = JSON.stringify({ email, password, firstName: 'Grace', lastName: 'Hopper', birthday: '1906-12-09' });
    const signedUp = await stack.waitFor('sign-up through the gateway', async () => {
      const answer = await send(gateway.port, '/api/v1/auth/sign-up', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      return answer.status === 201 && answer;
    });
    userId = json(signedUp).id;
    const signedIn = await send(gateway.port, '/api/v1/auth/sign-in', {
      method: 'POST',
      body: JSON.stringify({ email, password }),
      headers: { 'content-type': 'application/json' },
    });
    expect(signedIn.status).toBe(200);
    token = json(signedIn).accessToken;
  }, 90_000);
  afterAll(() => stack.stopAll());

  it("accepts auth's token and forwards it unchanged", async () => {
    const me = await get(gateway.port, '/api/v1/auth/me', { authorization: `Bearer ${token}` });
    expect(me.status).toBe(200);
    expect(json(me)).toMatchObject({ id: userId, firstName: 'Grace' });
  });

  it("refuses the same claims unsigned, re-signed by another key under auth's kid, or given to another user", async () => {
    const { kid } = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string };
    const forger = await signingKey(kid);
    for (const [what, forged] of [
      ['alg none', unsignedToken(kid, userId)],
      ['another key', await accessToken(forger, { sub: userId })],
      ['another user', tamperedToken(token, randomUUID())],
    ] as const) {
      const answer = await get(gateway.port, '/api/v1/auth/me', { authorization: `Bearer ${forged}` });
      expect(answer.status, what).toBe(401);
      expect(json(answer).error.code, what).toBe('invalid_token');
      // Refused by the gateway itself: no auth instance answered it.
      expect(answer.headers.get('x-served-by'), what).toBe(gateway.serviceId);
    }
  });
});
