/**
 * Bad input on every messenger route, against the real process: each answer is a 4xx JSON error
 * naming the problem, never a 5xx, and the database is unchanged. Also: every route needs a valid
 * token (a client-supplied identity header counts for nothing).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessengerTestStack, type TestUser } from './support/messenger-stack.js';

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
const raw = (text: string) => Buffer.from(text).toString('base64url');
const chatCursor = raw('c:1700000000000:5');
const messageCursor = raw('m:5');

/** `{chat}` in a path or body is replaced by the id of a chat the caller is in. */
const CASES: Case[] = [
  // POST /chats
  { what: 'open: no body', method: 'POST', path: '/chats', status: 400, code: 'invalid_request', names: 'expected object' },
  { what: 'open: missing peerId', method: 'POST', path: '/chats', body: {}, status: 400, code: 'invalid_request', names: 'peerId' },
  { what: 'open: peerId a number', method: 'POST', path: '/chats', body: { peerId: 42 }, status: 400, code: 'invalid_request', names: 'peerId' },
  { what: 'open: peerId SQL', method: 'POST', path: '/chats', body: { peerId: "' OR 1=1 --" }, status: 400, code: 'invalid_request', names: 'peerId' },
  { what: 'open: an extra field', method: 'POST', path: '/chats', body: { peerId: UUID, kind: 'group' }, status: 400, code: 'invalid_request', names: 'kind' },
  { what: 'open: an array body', method: 'POST', path: '/chats', body: [UUID], status: 400, code: 'invalid_request' },
  { what: 'open: invalid JSON', method: 'POST', path: '/chats', rawBody: '{"peerId":', status: 400, code: 'invalid_json' },
  { what: 'open: JSON as text/plain', method: 'POST', path: '/chats', rawBody: `{"peerId":"${UUID}"}`, contentType: 'text/plain', status: 400, code: 'invalid_request' },
  { what: 'open: an oversized body', method: 'POST', path: '/chats', body: { peerId: UUID, padding: 'x'.repeat(70_000) }, status: 413, code: 'payload_too_large' },
  // GET /chats
  { what: 'list: limit 0', method: 'GET', path: '/chats?limit=0', status: 400, code: 'invalid_request', names: 'limit' },
  { what: 'list: limit 101', method: 'GET', path: '/chats?limit=101', status: 400, code: 'invalid_request', names: 'limit' },
  { what: 'list: a huge limit', method: 'GET', path: '/chats?limit=100000000000', status: 400, code: 'invalid_request', names: 'limit' },
  { what: 'list: limit not a number', method: 'GET', path: '/chats?limit=ten', status: 400, code: 'invalid_request', names: 'limit' },
  { what: 'list: limit twice', method: 'GET', path: '/chats?limit=1&limit=2', status: 400, code: 'invalid_request', names: 'limit' },
  { what: 'list: a garbage cursor', method: 'GET', path: '/chats?cursor=!!not-ours!!', status: 400, code: 'invalid_cursor' },
  { what: "list: the messages' cursor", method: 'GET', path: `/chats?cursor=${messageCursor}`, status: 400, code: 'invalid_cursor' },
  { what: 'list: a cursor past year 9999', method: 'GET', path: `/chats?cursor=${raw('c:999999999999999:5')}`, status: 400, code: 'invalid_cursor' },
  { what: 'list: an oversized cursor', method: 'GET', path: `/chats?cursor=${'A'.repeat(300)}`, status: 400, code: 'invalid_request', names: 'cursor' },
  { what: "list: someone else's chats", method: 'GET', path: `/chats?userId=${UUID}`, status: 400, code: 'invalid_request', names: 'userId' },
  // POST /chats/:id/messages
  { what: 'send: no body', method: 'POST', path: '/chats/{chat}/messages', status: 400, code: 'invalid_request', names: 'expected object' },
  { what: 'send: no text', method: 'POST', path: '/chats/{chat}/messages', body: { clientMessageId: 'k1' }, status: 400, code: 'invalid_request', names: 'text' },
  { what: 'send: no clientMessageId', method: 'POST', path: '/chats/{chat}/messages', body: { text: 'hi' }, status: 400, code: 'invalid_request', names: 'clientMessageId' },
  { what: 'send: blank text', method: 'POST', path: '/chats/{chat}/messages', body: { text: ' \n\t ', clientMessageId: 'k1' }, status: 400, code: 'invalid_request', names: 'text: must not be blank' },
  { what: 'send: text null', method: 'POST', path: '/chats/{chat}/messages', body: { text: null, clientMessageId: 'k1' }, status: 400, code: 'invalid_request', names: 'text' },
  { what: 'send: text a number', method: 'POST', path: '/chats/{chat}/messages', body: { text: 5, clientMessageId: 'k1' }, status: 400, code: 'invalid_request', names: 'text' },
  { what: 'send: 4001 characters', method: 'POST', path: '/chats/{chat}/messages', body: { text: 'x'.repeat(4001), clientMessageId: 'k1' }, status: 400, code: 'invalid_request', names: 'text: must be at most 4000' },
  { what: 'send: 4001 emoji', method: 'POST', path: '/chats/{chat}/messages', body: { text: '😀'.repeat(4001), clientMessageId: 'k1' }, status: 400, code: 'invalid_request', names: 'text: must be at most 4000' },
  { what: 'send: a lone surrogate', method: 'POST', path: '/chats/{chat}/messages', rawBody: '{"text":"broken \\ud83d emoji","clientMessageId":"k1"}', status: 400, code: 'invalid_request', names: 'text' },
  { what: 'send: a NUL character', method: 'POST', path: '/chats/{chat}/messages', rawBody: '{"text":"nul \\u0000 here","clientMessageId":"k1"}', status: 400, code: 'invalid_request', names: 'text' },
  { what: 'send: key with spaces', method: 'POST', path: '/chats/{chat}/messages', body: { text: 'hi', clientMessageId: 'a b' }, status: 400, code: 'invalid_request', names: 'clientMessageId' },
  { what: 'send: key too long', method: 'POST', path: '/chats/{chat}/messages', body: { text: 'hi', clientMessageId: 'k'.repeat(65) }, status: 400, code: 'invalid_request', names: 'clientMessageId' },
  { what: 'send: key a number', method: 'POST', path: '/chats/{chat}/messages', body: { text: 'hi', clientMessageId: 7 }, status: 400, code: 'invalid_request', names: 'clientMessageId' },
  { what: 'send: an authorId of my choosing', method: 'POST', path: '/chats/{chat}/messages', body: { text: 'hi', clientMessageId: 'k1', authorId: UUID }, status: 400, code: 'invalid_request', names: 'authorId' },
  { what: 'send: invalid JSON', method: 'POST', path: '/chats/{chat}/messages', rawBody: '{"text":"hi",', status: 400, code: 'invalid_json' },
  { what: 'send: an oversized body', method: 'POST', path: '/chats/{chat}/messages', body: { text: 'hi', clientMessageId: 'k1', padding: '😀'.repeat(20_000) }, status: 413, code: 'payload_too_large' },
  { what: 'send: chat id not a number', method: 'POST', path: '/chats/abc/messages', body: { text: 'hi', clientMessageId: 'k1' }, status: 400, code: 'invalid_request', names: 'id' },
  { what: 'send: chat id 0', method: 'POST', path: '/chats/0/messages', body: { text: 'hi', clientMessageId: 'k1' }, status: 400, code: 'invalid_request', names: 'id' },
  { what: 'send: chat id past BIGINT', method: 'POST', path: '/chats/99999999999999999999/messages', body: { text: 'hi', clientMessageId: 'k1' }, status: 400, code: 'invalid_request', names: 'id' },
  { what: 'send: SQL in the chat id', method: 'POST', path: `/chats/${encodeURIComponent('1; DROP TABLE messages')}/messages`, body: { text: 'hi', clientMessageId: 'k1' }, status: 400, code: 'invalid_request', names: 'id' },
  // GET /chats/:id/messages
  { what: 'page: limit 0', method: 'GET', path: '/chats/{chat}/messages?limit=0', status: 400, code: 'invalid_request', names: 'limit' },
  { what: 'page: a huge limit', method: 'GET', path: '/chats/{chat}/messages?limit=99999999999999999999', status: 400, code: 'invalid_request', names: 'limit' },
  { what: 'page: before not an id', method: 'GET', path: '/chats/{chat}/messages?before=abc', status: 400, code: 'invalid_request', names: 'before' },
  { what: 'page: before negative', method: 'GET', path: '/chats/{chat}/messages?before=-5', status: 400, code: 'invalid_request', names: 'before' },
  { what: 'page: cursor and before', method: 'GET', path: `/chats/{chat}/messages?before=5&cursor=${messageCursor}`, status: 400, code: 'invalid_request', names: 'before' },
  { what: 'page: a garbage cursor', method: 'GET', path: '/chats/{chat}/messages?cursor=zzz', status: 400, code: 'invalid_cursor' },
  { what: "page: the chats' cursor", method: 'GET', path: `/chats/{chat}/messages?cursor=${chatCursor}`, status: 400, code: 'invalid_cursor' },
  { what: 'page: a cursor past BIGINT', method: 'GET', path: `/chats/{chat}/messages?cursor=${raw('m:9999999999999999999')}`, status: 400, code: 'invalid_cursor' },
  { what: 'page: an unknown parameter', method: 'GET', path: '/chats/{chat}/messages?after=5', status: 400, code: 'invalid_request', names: 'after' },
  { what: 'page: chat id not a number', method: 'GET', path: '/chats/me/messages', status: 400, code: 'invalid_request', names: 'id' },
  // POST /chats/:id/read
  { what: 'read: no body', method: 'POST', path: '/chats/{chat}/read', status: 400, code: 'invalid_request', names: 'expected object' },
  { what: 'read: upTo a number', method: 'POST', path: '/chats/{chat}/read', body: { upTo: 5 }, status: 400, code: 'invalid_request', names: 'upTo' },
  { what: 'read: upTo 0', method: 'POST', path: '/chats/{chat}/read', body: { upTo: '0' }, status: 400, code: 'invalid_request', names: 'upTo' },
  { what: 'read: upTo past BIGINT', method: 'POST', path: '/chats/{chat}/read', body: { upTo: '9223372036854775808' }, status: 400, code: 'invalid_request', names: 'upTo' },
  { what: 'read: for someone else', method: 'POST', path: '/chats/{chat}/read', body: { upTo: '5', userId: UUID }, status: 400, code: 'invalid_request', names: 'userId' },
  { what: 'read: invalid JSON', method: 'POST', path: '/chats/{chat}/read', rawBody: 'upTo=5', status: 400, code: 'invalid_json' },
  { what: 'read: chat id negative', method: 'POST', path: '/chats/-1/read', body: { upTo: '5' }, status: 400, code: 'invalid_request', names: 'id' },
];

describe('messenger refuses bad input (real processes, MariaDB, Redis, Consul)', () => {
  const s = new MessengerTestStack();
  let me: TestUser;
  let peer: TestUser;
  let chatId: string;

  beforeAll(async () => {
    await s.start();
    [me, peer] = [await s.user('Quinn'), await s.user('Quincy')];
    chatId = await s.dialog(me, peer);
    await s.send(peer, chatId, 'one message, so there is something to read');
  }, 90_000);
  afterAll(() => s.teardown());

  it('answers every bad request with a 4xx JSON error naming the problem, and writes nothing', async () => {
    const before = await s.snapshot();
    const wrong: string[] = [];
    for (const c of CASES) {
      const path = c.path.replace('{chat}', chatId);
      const answer = await s.api(me, c.method, path, { body: c.body, rawBody: c.rawBody, contentType: c.contentType });
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

  it('needs a valid token on every route; identity headers count for nothing', async () => {
    const routes = [
      ['POST', '/chats'], ['GET', '/chats'], ['POST', `/chats/${chatId}/messages`], ['GET', `/chats/${chatId}/messages`], ['POST', `/chats/${chatId}/read`],
    ] as const;
    const [header, payload, signature] = me.token.split('.');
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    const forged = `${header}.${Buffer.from(JSON.stringify({ sub: peer.id })).toString('base64url')}.${signature}`;
    const before = await s.snapshot();
    for (const [method, path] of routes) {
      for (const authorization of [undefined, `Basic ${Buffer.from('a:b').toString('base64')}`, `Bearer ${unsigned}`, `Bearer ${forged}`, 'Bearer not.a.jwt']) {
        const response = await fetch(`${s.messenger.url}${path}`, {
          method,
          headers: { 'x-user-id': me.id, 'content-type': 'application/json', ...(authorization && { authorization }) },
          body: method === 'POST' ? JSON.stringify({ peerId: peer.id, text: 'sneaky', clientMessageId: 'k9', upTo: '1' }) : undefined,
        });
        expect(response.status, `${method} ${path} with ${authorization?.slice(0, 12)}`).toBe(401);
        expect(((await response.json()) as any).error.code).toMatch(/^(missing_token|invalid_token)$/);
      }
    }
    expect(await s.snapshot()).toBe(before);
  });

  it('is still serving after all of that', async () => {
    const list = await s.api(me, 'GET', '/chats');
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(1);
    s.messenger.process.assertRunning();
  });
});
