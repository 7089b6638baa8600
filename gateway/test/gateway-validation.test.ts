/**
 * Input validation at the edge on the product routes (real gateway, real Consul): bad bodies,
 * queries and path parameters are answered 4xx JSON naming the problem and never reach the
 * service; good ones reach it byte for byte, whatever the gateway parsed. auth and social are
 * stand-ins that record and echo what arrives (fixtures/stand-in-service.ts), and count calls.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateStack, get, json, send, type Answer, type Running } from './upstreams.js';
import { accessToken, jwksOf, signingKey } from './tokens.js';

const GOOD_SIGN_UP = {
  email: 'ada@example.com',
  password: 'correct horse battery',
  firstName: 'Ada',
  lastName: 'Lovelace',
  birthday: '1815-12-10',
};

describe('gateway input validation (real Consul)', () => {
  const stack = new PrivateStack();
  let gateway: Running;
  let auth: Running;
  let social: Running;
  let token: string;

  const calls = async (service: Running) => (json(await get(service.port, '/__calls')) as { calls: number }).calls;
  const postJson = (path: string, body: string, headers: Record<string, string> = {}) =>
    send(gateway.port, path, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  const refusal = (answer: Answer) => ({ status: answer.status, ...(json(answer).error as { code: string; message: string }) });

  beforeAll(async () => {
    const key = await signingKey();
    [gateway, auth, social] = await Promise.all([
      stack.start('gateway'),
      stack.start('stand-in', { STAND_IN_NAME: 'auth', STAND_IN_JWKS: jwksOf(key) }),
      stack.start('stand-in', { STAND_IN_NAME: 'social' }),
    ]);
    await stack.waitPassing('auth', (ids) => ids.includes(auth.serviceId));
    await stack.waitPassing('social', (ids) => ids.includes(social.serviceId));
    token = await accessToken(key);
    await stack.waitFor('the gateway to reach auth and social', async () => {
      const [me, feed] = await Promise.all([
        get(gateway.port, '/api/v1/auth/me', { authorization: `Bearer ${token}` }),
        get(gateway.port, '/api/v1/social/feed', { authorization: `Bearer ${token}` }),
      ]);
      return me.status === 200 && feed.status === 200;
    });
  });
  afterAll(() => stack.stopAll());

  it('refuses bad sign-up bodies with 4xx JSON naming the problem, without calling auth', async () => {
    const before = await calls(auth);
    const cases: Array<[string, string, Record<string, string>, number, string, RegExp]> = [
      ['a missing field', JSON.stringify({ ...GOOD_SIGN_UP, email: undefined }), {}, 400, 'invalid_request', /email/],
      ['an extra field', JSON.stringify({ ...GOOD_SIGN_UP, isAdmin: true }), {}, 400, 'invalid_request', /isAdmin/],
      ['a wrong type', JSON.stringify({ ...GOOD_SIGN_UP, birthday: 18151210 }), {}, 400, 'invalid_request', /birthday/],
      ['a bad email', JSON.stringify({ ...GOOD_SIGN_UP, email: "x' OR 1=1 --" }), {}, 400, 'invalid_request', /email/],
      ['an oversized name', JSON.stringify({ ...GOOD_SIGN_UP, firstName: 'A'.repeat(101) }), {}, 400, 'invalid_request', /firstName/],
      ['a lone surrogate', `{"email":"a@b.co","password":"correct horse","firstName":"\\ud800","lastName":"L","birthday":"1990-01-01"}`, {}, 400, 'invalid_request', /firstName/],
      ['an impossible date', JSON.stringify({ ...GOOD_SIGN_UP, birthday: '1990-02-30' }), {}, 400, 'invalid_request', /birthday/],
      ['an array', '[1,2]', {}, 400, 'invalid_request', /body/],
      ['invalid JSON', '{"email":', {}, 400, 'invalid_json', /JSON/],
      ['an empty body', '', {}, 400, 'invalid_request', /body/],
      ['another media type', JSON.stringify(GOOD_SIGN_UP), { 'content-type': 'text/plain' }, 415, 'unsupported_media_type', /application\/json/],
      ['a body over the route limit', JSON.stringify({ ...GOOD_SIGN_UP, interests: 'x'.repeat(20_000) }), {}, 413, 'payload_too_large', /too large/],
    ];
    for (const [what, body, headers, status, code, message] of cases) {
      const answer = await postJson('/api/v1/auth/sign-up', body, headers);
      expect(refusal(answer), what).toMatchObject({ status, code, message: expect.stringMatching(message) });
      expect(answer.headers.get('x-gateway'), what).toBe(gateway.serviceId);
    }
    expect(await calls(auth)).toBe(before);
  });

  it('forwards a valid body as the bytes sent: spacing, key order, escapes and SQL-looking text intact', async () => {
    const text = `{ "lastName":"O'Brien; DROP TABLE users; --" ,"firstName" : "Zo\\u00eb 👩‍🔬",\n"email":"Zoe@Example.com","password":"correct horse battery","birthday":"1990-01-01"}`;
    const answer = await postJson('/api/v1/auth/sign-up', text, { 'content-type': 'application/json; charset=utf-8' });
    expect(answer.status).toBe(200);
    const received = json(answer) as { method: string; url: string; body: string; headers: Record<string, string> };
    expect(received).toMatchObject({ method: 'POST', url: '/sign-up' });
    expect(Buffer.from(received.body, 'base64').toString('utf8')).toBe(text);
    expect(received.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  it('validates queries and path parameters of signed-in routes, without calling social', async () => {
    const auth = { authorization: `Bearer ${token}` };
    const before = await calls(social);
    const cases: Array<[string, RegExp]> = [
      ['/api/v1/social/users?first=Ad&limit=1000', /limit/],
      ['/api/v1/social/users?first=Ad&limit=0', /limit/],
      ['/api/v1/social/users?first=Ad&limit=ten', /limit/],
      ['/api/v1/social/feed?limit=101', /limit/],
      ['/api/v1/social/friends?limit=-1', /limit/],
      ['/api/v1/social/users/not-a-uuid', /id/],
      ["/api/v1/social/users/1'%20OR%20'1'='1", /id/],
    ];
    for (const [path, message] of cases) {
      const answer = await get(gateway.port, path, auth);
      expect(refusal(answer), path).toMatchObject({ status: 400, code: 'invalid_request', message: expect.stringMatching(message) });
    }
    const post = await postJson('/api/v1/social/posts', JSON.stringify({ text: 'x'.repeat(501) }), auth);
    expect(refusal(post)).toMatchObject({ status: 400, message: expect.stringMatching(/text/) });
    const befriend = await postJson('/api/v1/social/friends/requests', JSON.stringify({ userId: 'me' }), auth);
    expect(refusal(befriend)).toMatchObject({ status: 400, message: expect.stringMatching(/userId/) });
    expect(await calls(social)).toBe(before);
  });

  it('forwards a valid query string as sent', async () => {
    const id = randomUUID();
    const answer = await get(gateway.port, `/api/v1/social/users?last=L%C3%B6we&first=&limit=5&cursor=abc_-`, { authorization: `Bearer ${token}` });
    expect(answer.status).toBe(200);
    expect(json(answer).url).toBe('/users?last=L%C3%B6we&first=&limit=5&cursor=abc_-');
    const profile = await get(gateway.port, `/api/v1/social/users/${id}`, { authorization: `Bearer ${token}` });
    expect(json(profile).url).toBe(`/users/${id}`);
  });
});
