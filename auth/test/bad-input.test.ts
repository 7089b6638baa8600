/**
 * Bad input on every auth route (missing, extra and mistyped fields, oversized strings and
 * bodies, invalid JSON, SQL-looking strings, unicode edge cases, huge page sizes, bad tokens)
 * → a 4xx JSON error naming the problem, never a 5xx, and the database unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Running } from '../../test/support/isolated-stack.js';
import { AuthTestStack, call, freshAddress } from './support/auth-stack.js';

interface Case {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  rawBody?: string;
  contentType?: string;
  /** Send the test user's access token (or this header value instead). */
  auth?: boolean | string;
  status: number;
  /** What `${code} ${message}` must mention: the field or the problem. */
  names: RegExp;
}

const base64url = (text: string) => Buffer.from(text).toString('base64url');
const unsignedToken = `${base64url('{"alg":"none","typ":"JWT"}')}.${base64url('{"sub":"x","sid":"y","iss":"switchyard-auth","aud":"switchyard","exp":9999999999}')}.`;

describe('bad input on every auth route (real process, MariaDB)', () => {
  const auth = new AuthTestStack();
  const run = auth.run;
  const valid = { email: `valid.${run}@${run}.auth.test`, password: 'correct horse battery staple', firstName: 'Val', lastName: 'Id', birthday: '1990-01-01' };
  let instance: Running;
  let accessToken: string;

  beforeAll(async () => {
    await auth.prepare();
    [instance] = await auth.stack.startPassing('auth', 1);
    expect((await call(instance.url, 'POST', '/sign-up', { body: valid })).status).toBe(201);
    accessToken = (await call(instance.url, 'POST', '/sign-in', { body: { email: valid.email, password: valid.password }, from: freshAddress() })).body.accessToken;
  }, 60_000);
  afterAll(() => auth.teardown());

  const signUp = (name: string, body: unknown, names: RegExp, status = 400): Case => ({ name: `sign-up: ${name}`, method: 'POST', path: '/sign-up', body, status, names });
  const other = { ...valid, email: `other.${run}@${run}.auth.test` };
  const cases: Case[] = [
    signUp('empty object', {}, /email/),
    signUp('missing password', { ...other, password: undefined }, /password/),
    signUp('extra field', { ...other, role: 'admin' }, /role/),
    signUp('number as a name', { ...other, firstName: 42 }, /firstName/),
    signUp('array as the email', { ...other, email: [other.email] }, /email/),
    signUp('null birthday', { ...other, birthday: null }, /birthday/),
    signUp('impossible date', { ...other, birthday: '1990-13-01' }, /birthday/),
    signUp('oversized last name', { ...other, lastName: 'x'.repeat(5_000) }, /lastName/),
    signUp('weak password', { ...other, password: '12121212' }, /password/),
    signUp('SQL in the email', { ...other, email: "' OR 1=1; DROP TABLE users; --" }, /email/),
    signUp('NUL in a name', { ...other, lastName: 'Ro\u0000bert' }, /lastName/),
    signUp('right-to-left override', { ...other, city: 'Par\u202Eis\u0007' }, /city/),
    signUp('body is an array', [other], /expected object/),
    { name: 'sign-up: lone surrogate', method: 'POST', path: '/sign-up', rawBody: JSON.stringify(other).replace('"Val"', '"\\ud800Val"'), status: 400, names: /firstName/ },
    { name: 'sign-up: invalid JSON', method: 'POST', path: '/sign-up', rawBody: '{"email": "a@b.co",', status: 400, names: /invalid_json/ },
    { name: 'sign-up: JSON null', method: 'POST', path: '/sign-up', rawBody: 'null', status: 400, names: /JSON|object/ },
    { name: 'sign-up: text/plain body', method: 'POST', path: '/sign-up', rawBody: JSON.stringify(other), contentType: 'text/plain', status: 400, names: /expected object/ },
    { name: 'sign-up: oversized body', method: 'POST', path: '/sign-up', body: { ...other, interests: 'x'.repeat(20_000) }, status: 413, names: /too large/ },

    { name: 'sign-in: missing password', method: 'POST', path: '/sign-in', body: { email: valid.email }, status: 400, names: /password/ },
    { name: 'sign-in: number password', method: 'POST', path: '/sign-in', body: { email: valid.email, password: 12345678 }, status: 400, names: /password/ },
    { name: 'sign-in: huge password', method: 'POST', path: '/sign-in', body: { email: valid.email, password: 'x'.repeat(10_000) }, status: 400, names: /password/ },
    { name: 'sign-in: extra field', method: 'POST', path: '/sign-in', body: { email: valid.email, password: 'x', remember: true }, status: 400, names: /remember/ },
    { name: 'sign-in: SQL in the email', method: 'POST', path: '/sign-in', body: { email: "admin' --", password: 'x' }, status: 400, names: /email/ },

    { name: 'refresh: SQL as the token', method: 'POST', path: '/token/refresh', body: { refreshToken: "' OR '1'='1" }, status: 400, names: /refreshToken/ },
    { name: 'refresh: number as the token', method: 'POST', path: '/token/refresh', body: { refreshToken: 42 }, status: 400, names: /refreshToken/ },
    { name: 'refresh: no body', method: 'POST', path: '/token/refresh', status: 400, names: /expected object/ },
    { name: 'sign-out: missing token field', method: 'POST', path: '/sign-out', body: {}, auth: true, status: 400, names: /refreshToken/ },

    { name: 'me: no token', method: 'GET', path: '/me', status: 401, names: /missing_token/ },
    { name: 'me: not a JWT', method: 'GET', path: '/me', auth: 'Bearer not-a-token', status: 401, names: /invalid_token/ },
    { name: "me: alg 'none'", method: 'GET', path: '/me', auth: `Bearer ${unsignedToken}`, status: 401, names: /invalid_token/ },
    { name: 'me: basic auth', method: 'GET', path: '/me', auth: 'Basic dXNlcjpwYXNz', status: 401, names: /invalid_token/ },

    { name: 'users: page size 1000', method: 'GET', path: '/users?last=a&limit=1000', auth: true, status: 400, names: /limit/ },
    { name: 'users: negative page size', method: 'GET', path: '/users?last=a&limit=-1', auth: true, status: 400, names: /limit/ },
    { name: 'users: no prefix', method: 'GET', path: '/users', auth: true, status: 400, names: /first/ },
    { name: 'users: unknown parameter', method: 'GET', path: '/users?last=a&admin=1', auth: true, status: 400, names: /admin/ },
    { name: 'users: repeated parameter', method: 'GET', path: '/users?last=a&last=b', auth: true, status: 400, names: /last/ },
    { name: 'users: oversized prefix', method: 'GET', path: `/users?last=${'a'.repeat(200)}`, auth: true, status: 400, names: /last/ },
    { name: 'users: SQL as the cursor', method: 'GET', path: `/users?last=a&cursor=${encodeURIComponent("' OR 1=1 --")}`, auth: true, status: 400, names: /invalid_cursor/ },
    { name: 'users: forged cursor', method: 'GET', path: `/users?last=a&cursor=${base64url("last:' OR 1=1")}`, auth: true, status: 400, names: /invalid_cursor/ },
    { name: 'users: SQL in ids', method: 'GET', path: `/users?ids=${encodeURIComponent("1) OR (1=1")}`, auth: true, status: 400, names: /ids/ },
    {
      name: 'users: 101 ids', method: 'GET', auth: true, status: 400, names: /ids/,
      path: `/users?ids=${Array.from({ length: 101 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`).join(',')}`,
    },
    { name: 'users/:id: not a uuid', method: 'GET', path: '/users/42', auth: true, status: 400, names: /id/ },
    { name: 'users/:id: SQL', method: 'GET', path: `/users/${encodeURIComponent("' OR 1=1 --")}`, auth: true, status: 400, names: /id/ },
    { name: 'users/:id: no token', method: 'GET', path: '/users/00000000-0000-4000-8000-000000000000', status: 401, names: /missing_token/ },
  ];

  it('answers every case with a 4xx JSON error naming the problem, never a 5xx, and writes nothing', async () => {
    const before = await auth.snapshot();
    const problems: string[] = [];
    for (const c of cases) {
      const header = c.auth === true ? `Bearer ${accessToken}` : typeof c.auth === 'string' ? c.auth : undefined;
      const answer = await fetch(`${instance.url}${c.path}`, {
        method: c.method,
        headers: {
          ...((c.body !== undefined || c.rawBody !== undefined) && { 'content-type': c.contentType ?? 'application/json' }),
          ...(header && { authorization: header }),
          'x-forwarded-for': freshAddress(),
        },
        body: c.rawBody ?? (c.body === undefined ? undefined : JSON.stringify(c.body)),
      });
      const text = await answer.text();
      let error: { code?: unknown; message?: unknown } | undefined;
      try {
        error = (JSON.parse(text) as { error?: typeof error }).error;
      } catch {
        // reported below
      }
      const described = `${String(error?.code)} ${String(error?.message)}`;
      if (answer.status !== c.status || typeof error?.code !== 'string' || typeof error.message !== 'string' || !c.names.test(described)) {
        problems.push(`${c.name}: ${answer.status} ${text.slice(0, 300)}`);
      }
    }
    expect(problems).toEqual([]);
    expect(await auth.snapshot()).toBe(before);
  });
});
