/**
 * Messages through real messenger processes (two instances) on the real MariaDB and Redis:
 * idempotent sends (the same clientMessageId stores one message, retried in sequence, at the same
 * moment, and on the other instance), paging newest first, the live events each send publishes for
 * every participant, and chats that are not yours: 404 everywhere, nothing written.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessengerTestStack, type EventLog, type TestUser } from './support/messenger-stack.js';

describe('messenger messages (real processes, MariaDB, Redis, Consul)', () => {
  const s = new MessengerTestStack();
  let events: EventLog;
  let ana: TestUser;
  let bo: TestUser;
  let chatId: string;

  beforeAll(async () => {
    await s.start(2);
    events = await s.listen();
    [ana, bo] = [await s.user('Ana'), await s.user('Bo')];
    chatId = await s.dialog(ana, bo);
  }, 90_000);
  afterAll(async () => {
    await events?.close();
    await s.teardown();
  });

  const messagesWithKey = async (authorId: string, key: string) => {
    const [rows] = await s.db().query('SELECT COUNT(*) AS n FROM messages WHERE author_id = ? AND client_message_id = ?', [authorId, key]);
    return Number((rows as Array<{ n: number }>)[0]!.n);
  };

  it('stores a message (201) and answers a retry with the same key with the stored one (200), on any instance', async () => {
    const key = randomUUID();
    const text = `hello Bo 👋 ${s.run}`;
    const sent = await s.api(ana, 'POST', `/chats/${chatId}/messages`, { body: { text, clientMessageId: key } });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    expect(sent.body).toEqual({
      id: expect.stringMatching(/^[1-9][0-9]*$/),
      chatId,
      authorId: ana.id,
      text,
      clientMessageId: key,
      createdAt: expect.any(String),
    });
    for (const instance of s.instances) {
      const retry = await s.api(ana, 'POST', `/chats/${chatId}/messages`, { body: { text, clientMessageId: key }, instance });
      expect(retry.status).toBe(200);
      expect(retry.body).toEqual(sent.body);
    }
    expect(await messagesWithKey(ana.id, key)).toBe(1);

    // Every attempt published the stored message, to both participants: the first attempt's
    // instance might have died before publishing, and then a retry's is the only announcement
    // (each socket sends a message id once: live-replay.test.ts).
    const attempts = 1 + s.instances.length;
    const mine = (userId: string) => events.of(userId).filter((event) => event.message?.clientMessageId === key);
    await s.stack.waitFor('message events', () => mine(ana.id).length >= attempts && mine(bo.id).length >= attempts);
    const another = await s.send(bo, chatId, 'a later message, to know no attempt published anything else');
    await s.stack.waitFor('the later event', () => events.of(ana.id).some((event) => event.message?.id === another.id));
    expect(mine(ana.id)).toEqual(Array.from({ length: attempts }, () => ({ type: 'message', message: sent.body })));
    expect(mine(bo.id)).toEqual(Array.from({ length: attempts }, () => ({ type: 'message', message: sent.body })));
  });

  it('stores one message when the same key is sent many times at once, across both instances', async () => {
    for (let round = 0; round < 3; round += 1) {
      const key = `burst-${round}-${randomUUID()}`;
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          s.api(bo, 'POST', `/chats/${chatId}/messages`, { body: { text: `burst ${round}`, clientMessageId: key }, instance: s.instances[i % 2] }),
        ),
      );
      expect(answers.map((answer) => answer.status).sort(), JSON.stringify(answers.map((a) => a.body))).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
      expect(new Set(answers.map((answer) => answer.body.id)).size).toBe(1);
      expect(await messagesWithKey(bo.id, key)).toBe(1);
    }
  });

  it('refuses a key reused for another text or another chat (409), storing nothing', async () => {
    const cy = await s.user('Cy');
    const otherChat = await s.dialog(ana, cy);
    const key = randomUUID();
    await s.send(ana, chatId, 'the original', key);
    const before = await s.count('messages');
    for (const [chat, text] of [[chatId, 'something else'], [otherChat, 'the original']] as const) {
      const answer = await s.api(ana, 'POST', `/chats/${chat}/messages`, { body: { text, clientMessageId: key } });
      expect(answer.status).toBe(409);
      expect(answer.body.error.code).toBe('client_message_id_reused');
    }
    expect(await s.count('messages')).toBe(before);
  });

  it('pages a chat newest first, by cursor or below a given message, without gaps or repeats', async () => {
    const [dee, eli] = [await s.user('Dee'), await s.user('Eli')];
    const chat = await s.dialog(dee, eli);
    const sent: string[] = [];
    for (let i = 0; i < 7; i += 1) sent.push((await s.send(i % 2 ? dee : eli, chat, `m${i}`)).id);
    const newestFirst = [...sent].reverse();

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: any = await s.api(dee, 'GET', `/chats/${chat}/messages?limit=3${cursor ? `&cursor=${cursor}` : ''}`, { instance: s.instances[pages % 2] });
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      expect(page.headers.get('cache-control')).toBe('private, no-store');
      seen.push(...page.body.items.map((message: { id: string }) => message.id));
      cursor = page.body.nextCursor;
      pages += 1;
    } while (cursor);
    expect(seen).toEqual(newestFirst);
    expect(pages).toBe(3);

    const below = await s.api(eli, 'GET', `/chats/${chat}/messages?before=${sent[4]}&limit=100`);
    expect(below.body.items.map((message: { text: string }) => message.text)).toEqual(['m3', 'm2', 'm1', 'm0']);
    expect(below.body.nextCursor).toBeNull();
    const all = await s.api(eli, 'GET', `/chats/${chat}/messages`);
    expect(all.body.items).toHaveLength(7);
    expect(all.body.items[0]).toMatchObject({ id: sent[6], chatId: chat, text: 'm6', authorId: eli.id });
  });

  it('answers 404 chat_not_found to a third user on every route of a chat, and to unknown chats, writing nothing', async () => {
    const mallory = await s.user('Mallory');
    const message = await s.send(ana, chatId, 'for Bo only');
    const before = await s.snapshot();
    const tries = [
      ['GET', `/chats/${chatId}/messages`],
      ['GET', `/chats/${chatId}/messages?before=${message.id}`],
      ['POST', `/chats/${chatId}/messages`, { text: 'let me in', clientMessageId: randomUUID() }],
      ['POST', `/chats/${chatId}/messages`, { text: 'for Bo only', clientMessageId: message.clientMessageId }],
      ['POST', `/chats/${chatId}/read`, { upTo: message.id }],
      ['GET', '/chats/9223372036854775807/messages'],
      ['POST', '/chats/9223372036854775807/messages', { text: 'hello?', clientMessageId: randomUUID() }],
      ['POST', '/chats/9223372036854775807/read', { upTo: '1' }],
    ] as const;
    for (const [method, path, body] of tries) {
      const answer = await s.api(mallory, method, path, { body });
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(answer.body.error).toEqual({ code: 'chat_not_found', message: 'no such chat of yours' });
    }
    const list = await s.api(mallory, 'GET', '/chats');
    expect(list.body).toEqual({ items: [], nextCursor: null });
    expect(await s.snapshot()).toBe(before);
    expect(events.of(mallory.id)).toEqual([]);
  });

  it('takes SQL-looking and unusual text as plain text, and 4000 characters of emoji', async () => {
    const texts = ["'; DROP TABLE messages; -- 🇫🇷 e\u0301 \u202e reversed", '😀'.repeat(4000), 'line one\nline two\ttabbed'];
    for (const text of texts) {
      const sent = await s.send(bo, chatId, text);
      expect(sent.text).toBe(text);
      const page = await s.api(ana, 'GET', `/chats/${chatId}/messages?limit=1`);
      expect(page.body.items[0].text).toBe(text);
    }
  });
});
