/**
 * Bad input on every social route, against the real process: each answer is a 4xx JSON error
 * naming the problem, never a 5xx, and the database is unchanged. Also: every route needs a valid
 * token (a client-supplied identity header counts for nothing), and the profile routes relay
 * auth's profiles without ever exposing an email.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, SocialTestStack, type TestUser } from './support/social-stack.js';

interface Case {
  what: string;
  method: string;
  path: string;
  body?: unknown;
  rawBody?: string;
  contentType?: string;
  status: number;
  /** The error code, and a part of the message naming the problem. */
  code: string;
  names?: string;
}

const UUID = '0b6f3c1e-8f43-4c1a-9d2e-3b7a1f0c9e55';
const friendsCursor = Buffer.from(`f:${UUID}`).toString('base64url');

const CASES: Case[] = [
  // POST /friends/requests
  { what: 'no body', method: 'POST', path: '/friends/requests', status: 400, code: 'invalid_request' },
  { what: 'missing userId', method: 'POST', path: '/friends/requests', body: {}, status: 400, code: 'invalid_request', names: 'userId' },
  { what: 'userId a number', method: 'POST', path: '/friends/requests', body: { userId: 42 }, status: 400, code: 'invalid_request', names: 'userId' },
  { what: 'userId SQL', method: 'POST', path: '/friends/requests', body: { userId: "' OR 1=1 --" }, status: 400, code: 'invalid_request', names: 'userId' },
  { what: 'an extra field', method: 'POST', path: '/friends/requests', body: { userId: UUID, status: 'accepted' }, status: 400, code: 'invalid_request', names: 'status' },
  { what: 'an array body', method: 'POST', path: '/friends/requests', body: [UUID], status: 400, code: 'invalid_request' },
  { what: 'invalid JSON', method: 'POST', path: '/friends/requests', rawBody: '{"userId":', status: 400, code: 'invalid_json' },
  { what: 'JSON sent as text/plain', method: 'POST', path: '/friends/requests', rawBody: `{"userId":"${UUID}"}`, contentType: 'text/plain', status: 400, code: 'invalid_request' },
  { what: 'an oversized body', method: 'POST', path: '/friends/requests', body: { userId: UUID, padding: 'x'.repeat(20_000) }, status: 413, code: 'payload_too_large' },
  // answering and removing
  { what: 'accept: not a uuid', method: 'POST', path: '/friends/requests/abc/accept', status: 400, code: 'invalid_request', names: 'userId' },
  { what: 'decline: NUL in the id', method: 'POST', path: '/friends/requests/%00/decline', status: 400, code: 'invalid_request', names: 'userId' },
  { what: 'remove: SQL in the id', method: 'DELETE', path: `/friends/${encodeURIComponent("1' OR '1'='1")}`, status: 400, code: 'invalid_request', names: 'userId' },
  // lists
  { what: 'limit 0', method: 'GET', path: '/friends?limit=0', status: 400, code: 'invalid_request', names: 'limit' },
  { what: 'limit 101', method: 'GET', path: '/friends/requests?limit=101', status: 400, code: 'invalid_request', names: 'limit' },
  { what: 'a huge limit', method: 'GET', path: '/feed?limit=100000000000', status: 400, code: 'invalid_request', names: 'limit' },
  { what: 'limit not a number', method: 'GET', path: '/feed?limit=ten', status: 400, code: 'invalid_request', names: 'limit' },
  { what: 'limit twice', method: 'GET', path: '/friends?limit=1&limit=2', status: 400, code: 'invalid_request', names: 'limit' },
  { what: 'a garbage cursor', method: 'GET', path: '/feed?cursor=!!not-ours!!', status: 400, code: 'invalid_cursor' },
  { what: "another list's cursor", method: 'GET', path: `/feed?cursor=${friendsCursor}`, status: 400, code: 'invalid_cursor' },
  { what: 'an oversized cursor', method: 'GET', path: `/friends?cursor=${'A'.repeat(300)}`, status: 400, code: 'invalid_request', names: 'cursor' },
  { what: "someone else's feed", method: 'GET', path: `/feed?userId=${UUID}`, status: 400, code: 'invalid_request', names: 'userId' },
  // posts
  { what: 'no text', method: 'POST', path: '/posts', body: {}, status: 400, code: 'invalid_request', names: 'text' },
  { what: 'blank text', method: 'POST', path: '/posts', body: { text: ' \n\t ' }, status: 400, code: 'invalid_request', names: 'text: must not be blank' },
  { what: 'text null', method: 'POST', path: '/posts', body: { text: null }, status: 400, code: 'invalid_request', names: 'text' },
  { what: 'text a number', method: 'POST', path: '/posts', body: { text: 5 }, status: 400, code: 'invalid_request', names: 'text' },
  { what: '501 characters', method: 'POST', path: '/posts', body: { text: 'x'.repeat(501) }, status: 400, code: 'invalid_request', names: 'text: must be at most 500' },
  { what: 'a lone surrogate', method: 'POST', path: '/posts', rawBody: '{"text":"broken \\ud83d emoji"}', status: 400, code: 'invalid_request', names: 'text' },
  { what: 'a NUL character', method: 'POST', path: '/posts', rawBody: '{"text":"nul \\u0000 here"}', status: 400, code: 'invalid_request', names: 'text' },
  { what: 'an authorId of my choosing', method: 'POST', path: '/posts', body: { text: 'hi', authorId: UUID }, status: 400, code: 'invalid_request', names: 'authorId' },
  { what: 'delete: id not a number', method: 'DELETE', path: '/posts/abc', status: 400, code: 'invalid_request', names: 'id' },
  { what: 'delete: id 0', method: 'DELETE', path: '/posts/0', status: 400, code: 'invalid_request', names: 'id' },
  { what: 'delete: id past BIGINT', method: 'DELETE', path: '/posts/99999999999999999999', status: 400, code: 'invalid_request', names: 'id' },
  { what: 'delete: SQL in the id', method: 'DELETE', path: `/posts/${encodeURIComponent('1; DROP TABLE posts')}`, status: 400, code: 'invalid_request', names: 'id' },
  // profiles
  { what: 'profile: not a uuid', method: 'GET', path: '/users/me', status: 400, code: 'invalid_request', names: 'id' },
  { what: 'search: no prefix', method: 'GET', path: '/users?limit=5', status: 400, code: 'invalid_request', names: 'first' },
  { what: 'search: an oversized prefix', method: 'GET', path: `/users?first=${'a'.repeat(101)}`, status: 400, code: 'invalid_request', names: 'first' },
  { what: "search: auth's internal batch read", method: 'GET', path: `/users?ids=${UUID}`, status: 400, code: 'invalid_request', names: 'ids' },
  { what: 'search: limit 101', method: 'GET', path: '/users?first=a&limit=101', status: 400, code: 'invalid_request', names: 'limit' },
];

describe('social refuses bad input (real processes, MariaDB, Redis, Consul)', () => {
  const s = new SocialTestStack();
  let me: TestUser;
  let friend: TestUser;

  beforeAll(async () => {
    await s.start();
    [me, friend] = [await s.user('Quinn', `Input${s.run}`), await s.user('Quincy', `Input${s.run}`)];
    await s.api(me, 'POST', '/friends/requests', { body: { userId: friend.id } });
    await s.api(friend, 'POST', `/friends/requests/${me.id}/accept`);
  }, 90_000);
  afterAll(() => s.teardown());

  it('answers every bad request with a 4xx JSON error naming the problem, and writes nothing', async () => {
    const before = await s.snapshot();
    const wrong: string[] = [];
    for (const c of CASES) {
      const answer = await s.api(me, c.method, c.path, { body: c.body, rawBody: c.rawBody, contentType: c.contentType });
      const error = answer.body?.error;
      const ok =
        answer.status === c.status &&
        answer.headers.get('content-type')?.startsWith('application/json') &&
        error?.code === c.code &&
        typeof error.message === 'string' &&
        (c.names === undefined || error.message.includes(c.names));
      if (!ok) wrong.push(`${c.what}: ${answer.status} ${JSON.stringify(answer.body)}`);
    }
    expect(wrong).toEqual([]);
    expect(await s.snapshot()).toBe(before);
  });

  it('takes SQL-looking and unusual text as plain text', async () => {
    const text = "'; DROP TABLE posts; -- 🇫🇷 e\u0301 \u202e reversed";
    const post = await s.api(friend, 'POST', '/posts', { body: { text } });
    expect(post.status).toBe(201);
    expect(post.body.text).toBe(text);
    const feed = await s.api(me, 'GET', '/feed');
    expect(feed.body.items.map((p: { text: string }) => p.text)).toEqual([text]);
  });

  it('needs a valid token on every route; identity headers count for nothing', async () => {
    const routes = [
      ['GET', `/users/${friend.id}`], ['GET', '/users?first=Q'], ['POST', '/friends/requests'], ['POST', `/friends/requests/${friend.id}/accept`],
      ['POST', `/friends/requests/${friend.id}/decline`], ['DELETE', `/friends/${friend.id}`], ['GET', '/friends'], ['GET', '/friends/requests'],
      ['POST', '/posts'], ['DELETE', '/posts/1'], ['GET', '/feed'],
    ] as const;
    const [header, payload] = me.token.split('.');
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    const forged = `${header}.${Buffer.from(JSON.stringify({ sub: friend.id })).toString('base64url')}.${me.token.split('.')[2]}`;
    const before = await s.snapshot();
    for (const [method, path] of routes) {
      for (const authorization of [undefined, `Basic ${Buffer.from('a:b').toString('base64')}`, `Bearer ${unsigned}`, `Bearer ${forged}`, 'Bearer not.a.jwt']) {
        const response = await fetch(`${s.social.url}${path}`, {
          method,
          headers: { 'x-user-id': me.id, 'content-type': 'application/json', ...(authorization && { authorization }) },
          body: method === 'POST' ? JSON.stringify({ userId: friend.id, text: 'sneaky' }) : undefined,
        });
        expect(response.status, `${method} ${path} with ${authorization?.slice(0, 12)}`).toBe(401);
        expect(((await response.json()) as any).error.code).toMatch(/^(missing_token|invalid_token)$/);
      }
    }
    expect(await s.snapshot()).toBe(before);
  });

  it("relays auth's profiles: by id (never the email), 404 for nobody, and the prefix search with its cursor", async () => {
    const profile = await s.api(me, 'GET', `/users/${friend.id.toUpperCase()}`);
    expect(profile.status).toBe(200);
    expect(profile.body).toMatchObject({ id: friend.id, firstName: 'Quincy', lastName: `Input${s.run}`, birthday: '1990-04-01' });
    expect(profile.body).not.toHaveProperty('email');
    const nobody = await s.api(me, 'GET', `/users/${UUID}`);
    expect(nobody.status).toBe(404);
    expect(nobody.body.error.code).toBe('user_not_found');

    const first = await s.api(me, 'GET', `/users?first=quin&last=input${s.run}&limit=1`);
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(1);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await s.api(me, 'GET', `/users?first=quin&last=input${s.run}&limit=1&cursor=${first.body.nextCursor}`);
    expect(second.body.nextCursor).toBeNull();
    expect([first.body.items[0].id, second.body.items[0].id].sort()).toEqual([me.id, friend.id].sort());
    // A cursor auth refuses comes back as auth's 400.
    const refused = await call(s.social.url, 'GET', `/users?first=quin&cursor=${friendsCursor}`, { token: me.token });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('invalid_cursor');
  });
});
