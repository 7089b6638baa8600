/**
 * messenger's REST routes through the public gateway: a real gateway in front of three messenger
 * instances and auth (real processes, Consul, MariaDB, Redis). Calls rotate over all three
 * instances; the gateway refuses bad input and missing tokens itself; a third user gets 404 on
 * a chat that is not theirs; a send retried on every instance stores one message.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessengerTestStack, type TestUser } from './support/messenger-stack.js';

const API = '/api/v1/messenger';

describe('messenger through the gateway (real processes, MariaDB, Redis, Consul)', () => {
  const s = new MessengerTestStack();
  let ana: TestUser;
  let bo: TestUser;

  beforeAll(async () => {
    await s.start(3);
    await s.startGateway();
    [ana, bo] = [await s.user('Ana'), await s.user('Bo')];
  }, 90_000);
  afterAll(() => s.teardown());

  it('serves the whole REST API, with 30 calls spread over all 3 instances in turn', async () => {
    const opened = await s.viaGateway(ana, 'POST', `${API}/chats`, { body: { peerId: bo.id } });
    expect(opened.status, JSON.stringify(opened.body)).toBe(201);
    const chatId = opened.body.id as string;
    expect((await s.viaGateway(bo, 'POST', `${API}/chats`, { body: { peerId: ana.id } })).body.id).toBe(chatId);

    const servedBy: string[] = [];
    for (let i = 0; i < 10; i += 1) {
      const sent = await s.viaGateway(i % 2 ? ana : bo, 'POST', `${API}/chats/${chatId}/messages`, { body: { text: `m${i}`, clientMessageId: randomUUID() } });
      expect(sent.status, JSON.stringify(sent.body)).toBe(201);
      const page = await s.viaGateway(ana, 'GET', `${API}/chats/${chatId}/messages?limit=1`);
      expect(page.body.items[0].id).toBe(sent.body.id);
      const read = await s.viaGateway(bo, 'POST', `${API}/chats/${chatId}/read`, { body: { upTo: sent.body.id } });
      expect(read.status).toBe(204);
      servedBy.push(...[sent, page, read].map((answer) => answer.headers.get('x-served-by')!));
    }
    const instances = s.instances.map((instance) => instance.serviceId);
    expect(new Set(servedBy)).toEqual(new Set(instances));
    for (const id of instances) expect(servedBy.filter((served) => served === id).length).toBe(10);

    const list = await s.viaGateway(bo, 'GET', `${API}/chats`);
    expect(list.body.items).toEqual([expect.objectContaining({ id: chatId, unread: 0, lastMessage: expect.objectContaining({ text: 'm9' }) })]);
  });

  it('stores one message for a key retried on every instance, also all at once', async () => {
    const chatId = (await s.viaGateway(ana, 'POST', `${API}/chats`, { body: { peerId: bo.id } })).body.id;
    const body = { text: 'once only', clientMessageId: randomUUID() };
    const answers = await Promise.all(Array.from({ length: 6 }, () => s.viaGateway(ana, 'POST', `${API}/chats/${chatId}/messages`, { body })));
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    expect(new Set(answers.map((answer) => answer.headers.get('x-served-by'))).size).toBe(3);
    const [rows] = await s.db().query('SELECT COUNT(*) AS n FROM messages WHERE client_message_id = ?', [body.clientMessageId]);
    expect(Number((rows as Array<{ n: number }>)[0]!.n)).toBe(1);
  });

  it('takes 4000 characters from a client that escapes every non-ASCII character', async () => {
    const chatId = (await s.viaGateway(ana, 'POST', `${API}/chats`, { body: { peerId: bo.id } })).body.id;
    const text = '😀'.repeat(4000);
    const escaped = JSON.stringify({ text, clientMessageId: randomUUID() }).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    expect(escaped.length).toBeGreaterThan(48_000);
    const sent = await s.viaGateway(ana, 'POST', `${API}/chats/${chatId}/messages`, { rawBody: escaped });
    expect(sent.status, JSON.stringify(sent.body).slice(0, 300)).toBe(201);
    expect(sent.body.text).toBe(text);
  });

  it('refuses bad input and missing tokens at the edge, and hides chats from a third user', async () => {
    const chatId = (await s.viaGateway(ana, 'POST', `${API}/chats`, { body: { peerId: bo.id } })).body.id;
    const mallory = await s.user('Mallory');
    const before = await s.snapshot();
    const tooLong = await s.viaGateway(ana, 'POST', `${API}/chats/${chatId}/messages`, { body: { text: 'x'.repeat(4001), clientMessageId: 'k' } });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.message).toContain('text: must be at most 4000 characters');
    // Answered by the gateway itself: no messenger instance was called.
    expect(s.instances.map((instance) => instance.serviceId)).not.toContain(tooLong.headers.get('x-served-by'));
    const badId = await s.viaGateway(ana, 'GET', `${API}/chats/abc/messages`);
    expect(badId.status).toBe(400);
    const noToken = await s.viaGateway(undefined, 'GET', `${API}/chats`);
    expect(noToken.status).toBe(401);
    for (const [method, path, body] of [
      ['GET', `${API}/chats/${chatId}/messages`, undefined],
      ['POST', `${API}/chats/${chatId}/messages`, { text: 'let me in', clientMessageId: randomUUID() }],
      ['POST', `${API}/chats/${chatId}/read`, { upTo: '1' }],
    ] as const) {
      const answer = await s.viaGateway(mallory, method, path, { body });
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(answer.body.error.code).toBe('chat_not_found');
    }
    expect(await s.snapshot()).toBe(before);
  });
});
