import { describe, expect, it } from 'vitest';
import type { Message } from '../api.js';
import { Chats } from './chats.js';
import { MessengerError } from './errors.js';
import { announce, type LiveEvents } from './live-events.js';
import { Messages } from './messages.js';
import { DuplicateClientMessageId, type ChatStore, type MessageStore } from './stores.js';

const ANA = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const BO = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
const CY = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc';

/** One chat (id 1) of ana and bo, in memory; `insert` can be made to lose a race once. */
function fakes() {
  const stored: Message[] = [];
  const published: Array<{ topic: string; event: any }> = [];
  const markers = new Map<string, string>();
  let raceOnce: Message | undefined;
  const chats: Pick<ChatStore, 'members'> = { members: async (chatId) => (chatId === '1' ? [ANA, BO] : []) };
  const store: MessageStore = {
    async insert(chatId, authorId, text, clientMessageId) {
      if (raceOnce) {
        stored.push(raceOnce);
        raceOnce = undefined;
        throw new DuplicateClientMessageId('race');
      }
      if (stored.some((m) => m.authorId === authorId && m.clientMessageId === clientMessageId)) throw new DuplicateClientMessageId('dup');
      const message = { id: String(stored.length + 1), chatId, authorId, text, clientMessageId, createdAt: new Date(0).toISOString() };
      stored.push(message);
      return message;
    },
    byClientMessageId: async (authorId, key) => stored.find((m) => m.authorId === authorId && m.clientMessageId === key),
    page: async (chatId, before, limit) =>
      stored.filter((m) => m.chatId === chatId && (before === undefined || Number(m.id) < Number(before))).reverse().slice(0, limit),
    async markRead(chatId, userId, upTo) {
      const last = String(Math.min(Number(upTo), stored.length));
      const key = `${chatId}:${userId}`;
      if (Number(markers.get(key) ?? 0) >= Number(last)) return undefined;
      markers.set(key, last);
      return last;
    },
  };
  const events: LiveEvents = { publish: async (topic, event) => void published.push({ topic, event }) };
  const errors: string[] = [];
  const messages = new Messages(chats, store, events, (_error, topic) => errors.push(topic));
  return { messages, store, stored, published, errors, loseRaceTo: (m: Message) => (raceOnce = m) };
}

const code = async (work: Promise<unknown>) => {
  try {
    await work;
  } catch (error) {
    return error instanceof MessengerError ? error.code : error;
  }
  return 'done';
};

describe('sending', () => {
  it('stores once per clientMessageId and announces the stored message on every attempt, to every member', async () => {
    const f = fakes();
    const first = await f.messages.send(ANA, '1', 'hello', 'k1');
    expect(first.created).toBe(true);
    const announced = [
      { topic: `user:${ANA}`, event: { type: 'message', message: first.message } },
      { topic: `user:${BO}`, event: { type: 'message', message: first.message } },
    ];
    expect(f.published).toEqual(announced);
    // The retry's announcement may be the only one (the first instance died before publishing):
    // the same message again, which sockets that already sent it drop (live-feed.test.ts).
    const again = await f.messages.send(ANA, '1', 'hello', 'k1');
    expect(again).toEqual({ message: first.message, created: false });
    expect(f.stored).toHaveLength(1);
    expect(f.published).toEqual([...announced, ...announced]);
    // The same key of another author is another message.
    expect((await f.messages.send(BO, '1', 'hello', 'k1')).created).toBe(true);
  });

  it('answers the stored message when a concurrent attempt with the same key won the insert', async () => {
    const f = fakes();
    const winner = { id: '7', chatId: '1', authorId: ANA, text: 'hi', clientMessageId: 'k2', createdAt: new Date(0).toISOString() };
    f.loseRaceTo(winner);
    expect(await f.messages.send(ANA, '1', 'hi', 'k2')).toEqual({ message: winner, created: false });
    expect(f.published.map((p) => p.event)).toEqual([
      { type: 'message', message: winner },
      { type: 'message', message: winner },
    ]);
  });

  it('refuses a key reused for another text (409), and non-members with chat_not_found', async () => {
    const f = fakes();
    await f.messages.send(ANA, '1', 'one', 'k3');
    expect(await code(f.messages.send(ANA, '1', 'two', 'k3'))).toBe('client_message_id_reused');
    expect(await code(f.messages.send(CY, '1', 'let me in', 'k4'))).toBe('chat_not_found');
    expect(await code(f.messages.send(ANA, '2', 'nowhere', 'k5'))).toBe('chat_not_found');
    expect(await code(f.messages.page(CY, '1', { limit: 10 }))).toBe('chat_not_found');
    expect(await code(f.messages.markRead(CY, '1', '1'))).toBe('chat_not_found');
    expect(f.stored).toHaveLength(1);
  });

  it('keeps the message when announcing fails (the change is committed)', async () => {
    const f = fakes();
    const redisDown: LiveEvents = { publish: async () => Promise.reject(new Error('redis down')) };
    const failing = new Messages({ members: async () => [ANA, BO] }, f.store, redisDown, (_error, topic) => f.errors.push(topic));
    expect((await failing.send(ANA, '1', 'still here', 'k6')).created).toBe(true);
    expect(f.errors).toEqual([`user:${ANA}`, `user:${BO}`]);
  });
});

describe('paging', () => {
  it('walks a chat newest first, with a cursor below each page and none after the last', async () => {
    const f = fakes();
    for (let i = 1; i <= 5; i += 1) await f.messages.send(ANA, '1', `m${i}`, `k${i}`);
    const first = await f.messages.page(BO, '1', { limit: 2 });
    expect(first.items.map((m) => m.text)).toEqual(['m5', 'm4']);
    const second = await f.messages.page(BO, '1', { limit: 2, cursor: first.nextCursor! });
    expect(second.items.map((m) => m.text)).toEqual(['m3', 'm2']);
    const last = await f.messages.page(BO, '1', { limit: 2, cursor: second.nextCursor! });
    expect(last).toEqual({ items: [expect.objectContaining({ text: 'm1' })], nextCursor: null });
    expect((await f.messages.page(BO, '1', { limit: 10, before: '3' })).items.map((m) => m.text)).toEqual(['m2', 'm1']);
    expect(await code(f.messages.page(BO, '1', { limit: 2, cursor: 'garbage!' }))).toBe('invalid_cursor');
  });
});

describe('read markers', () => {
  it('announce a marker that moved, to every member, and nothing when it did not', async () => {
    const f = fakes();
    await f.messages.send(ANA, '1', 'a', 'r1');
    await f.messages.send(ANA, '1', 'b', 'r2');
    f.published.length = 0;
    await f.messages.markRead(BO, '1', '99');
    expect(f.published.map((p) => p.event)).toEqual([
      { type: 'read', chatId: '1', userId: BO, upTo: '2' },
      { type: 'read', chatId: '1', userId: BO, upTo: '2' },
    ]);
    await f.messages.markRead(BO, '1', '1');
    expect(f.published).toHaveLength(2);
  });
});

describe('announcing', () => {
  it('gives up waiting on a publish that hangs, and reports it', async () => {
    const reported: string[] = [];
    const started = Date.now();
    await announce({ publish: () => new Promise(() => undefined) }, [ANA], { type: 'read', chatId: '1', userId: ANA, upTo: '1' }, (_e, topic) => reported.push(topic), 50);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(reported).toEqual([`user:${ANA}`]);
  });
});

describe('dialogs', () => {
  const chatStore = (existing: string | undefined): ChatStore & { created: string[] } => {
    const created: string[] = [];
    return {
      created,
      findDialog: async () => existing,
      createDialog: async (key) => (created.push(key), { id: '5', created: true }),
      view: async (id, userId) => ({ id, kind: 'dialog', participants: [ANA, BO], createdAt: 0, lastActivityAt: 0, lastMessage: null, unread: 0, lastReadMessageId: null, userId }) as any,
      list: async () => [],
      members: async () => [ANA, BO],
    };
  };
  const caller = { id: ANA, credentials: 'Bearer t' };
  const users = (known: string[]) => ({ exists: async (id: string) => known.includes(id) });

  it('open an existing dialog without asking auth, and create a new one only for a user auth knows', async () => {
    const asked: string[] = [];
    const existing = new Chats(chatStore('4'), { exists: async (id) => (asked.push(id), true) });
    expect(await existing.open(caller, BO)).toMatchObject({ chat: { id: '4' }, created: false });
    expect(asked).toEqual([]);

    const store = chatStore(undefined);
    expect(await new Chats(store, users([BO])).open(caller, BO)).toMatchObject({ chat: { id: '5', participants: [ANA, BO] }, created: true });
    expect(store.created).toEqual([`${ANA}:${BO}`]);
    expect(await code(new Chats(chatStore(undefined), users([])).open(caller, CY))).toBe('user_not_found');
    expect(await code(new Chats(chatStore(undefined), users([ANA])).open(caller, ANA))).toBe('cannot_chat_with_self');
  });
});
