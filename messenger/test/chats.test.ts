/**
 * Dialogs and the chat list through the real messenger process, on the real MariaDB: one dialog
 * per pair (also when both sides open it at the same moment, on two instances), the peer checked
 * against auth, the list by newest activity with participants, last message, unread counts and
 * cursor paging, and read markers that never move backwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessengerTestStack, type EventLog, type TestUser } from './support/messenger-stack.js';

const NOBODY = '0b6f3c1e-8f43-4c1a-9d2e-3b7a1f0c9e55';

describe('messenger chats (real processes, MariaDB, Redis, Consul)', () => {
  const s = new MessengerTestStack();
  let events: EventLog;

  beforeAll(async () => {
    await s.start(2);
    events = await s.listen();
  }, 90_000);
  afterAll(async () => {
    await events?.close();
    await s.teardown();
  });

  const [one, two] = [() => s.instances[0]!, () => s.instances[1]!];

  it('opens a dialog once: 201 the first time, 200 with the same chat after, from either side', async () => {
    const [ana, bo] = [await s.user('Ana'), await s.user('Bo')];
    const created = await s.api(ana, 'POST', '/chats', { body: { peerId: bo.id } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^[1-9][0-9]*$/),
      kind: 'dialog',
      participants: [ana.id, bo.id].sort(),
      createdAt: expect.any(String),
      lastMessage: null,
      unread: 0,
      lastReadMessageId: null,
    });
    expect(new Date(created.body.createdAt).toISOString()).toBe(created.body.createdAt);
    expect(created.headers.get('cache-control')).toBe('private, no-store');

    const again = await s.api(ana, 'POST', '/chats', { body: { peerId: bo.id } });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(created.body);
    // The other side, with an upper-case spelling of the id, on the other instance.
    const fromBo = await s.api(bo, 'POST', '/chats', { body: { peerId: ana.id.toUpperCase() }, instance: two() });
    expect(fromBo.status).toBe(200);
    expect(fromBo.body.id).toBe(created.body.id);
  });

  it('creates one dialog when both sides open it at the same moment, on different instances', async () => {
    for (let round = 0; round < 5; round += 1) {
      const [a, b] = [await s.user(`Race${round}a`), await s.user(`Race${round}b`)];
      const answers = await Promise.all([
        s.api(a, 'POST', '/chats', { body: { peerId: b.id }, instance: one() }),
        s.api(b, 'POST', '/chats', { body: { peerId: a.id }, instance: two() }),
        s.api(a, 'POST', '/chats', { body: { peerId: b.id }, instance: two() }),
        s.api(b, 'POST', '/chats', { body: { peerId: a.id }, instance: one() }),
      ]);
      expect(answers.map((answer) => answer.status).sort()).toEqual([200, 200, 200, 201]);
      expect(new Set(answers.map((answer) => answer.body.id)).size).toBe(1);
      const [rows] = await s.db().query('SELECT COUNT(*) AS n FROM chat_members WHERE chat_id = ?', [BigInt(answers[0]!.body.id)]);
      expect(Number((rows as Array<{ n: number }>)[0]!.n)).toBe(2);
    }
  });

  it('refuses a dialog with nobody (404, after asking auth) and with myself (400), writing nothing', async () => {
    const cy = await s.user('Cy');
    const before = await s.snapshot();
    const nobody = await s.api(cy, 'POST', '/chats', { body: { peerId: NOBODY } });
    expect(nobody.status).toBe(404);
    expect(nobody.body.error.code).toBe('user_not_found');
    const self = await s.api(cy, 'POST', '/chats', { body: { peerId: cy.id } });
    expect(self.status).toBe(400);
    expect(self.body.error.code).toBe('cannot_chat_with_self');
    expect(await s.snapshot()).toBe(before);
  });

  it('lists my chats by newest activity, with participants, last message and unread counts, page by page', async () => {
    const me = await s.user('Dee');
    const peers: TestUser[] = [];
    for (let i = 0; i < 5; i += 1) peers.push(await s.user(`Peer${i}`));
    const chatIds: string[] = [];
    for (const peer of peers) chatIds.push(await s.dialog(me, peer));
    // Activity: a message in chat 1 (oldest chat) brings it to the top; peer 3 writes twice.
    const inFirst = await s.send(peers[0]!, chatIds[0]!, 'hi Dee');
    await s.send(peers[3]!, chatIds[3]!, 'one');
    const last = await s.send(peers[3]!, chatIds[3]!, 'two');
    await s.send(me, chatIds[3]!, 'my own message is never unread');

    const all = await s.api(me, 'GET', '/chats?limit=100');
    expect(all.status).toBe(200);
    expect(all.body.nextCursor).toBeNull();
    expect(all.body.items.map((chat: { id: string }) => chat.id)).toEqual([chatIds[3], chatIds[0], chatIds[4], chatIds[2], chatIds[1]]);
    const [top, second] = all.body.items;
    expect(top.lastMessage).toMatchObject({ authorId: me.id, text: 'my own message is never unread' });
    expect(top.unread).toBe(2);
    expect(top.participants).toEqual([me.id, peers[3]!.id].sort());
    expect(second).toMatchObject({ lastMessage: inFirst, unread: 1 });
    expect(all.body.items.slice(2).every((chat: { lastMessage: unknown; unread: number }) => chat.lastMessage === null && chat.unread === 0)).toBe(true);

    // The same order two at a time, without gaps or repeats.
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await s.api(me, 'GET', `/chats?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { instance: two() });
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      paged.push(...page.body.items.map((chat: { id: string }) => chat.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(paged).toEqual(all.body.items.map((chat: { id: string }) => chat.id));

    // The peer's view of the same chat: my message is unread for them, theirs are not.
    const peerView = await s.api(peers[3]!, 'GET', '/chats');
    expect(peerView.body.items).toEqual([expect.objectContaining({ id: chatIds[3], unread: 1, lastReadMessageId: null })]);
    expect(last.id).toBeDefined();
  });

  it('marks read up to a message: unread counts drop, the marker never moves backwards nor past the newest message', async () => {
    const [eve, fay] = [await s.user('Eve'), await s.user('Fay')];
    const chatId = await s.dialog(eve, fay);
    const sent = [];
    for (let i = 1; i <= 4; i += 1) sent.push(await s.send(fay, chatId, `m${i}`));
    const unread = async () => (await s.api(eve, 'GET', '/chats')).body.items[0];
    expect(await unread()).toMatchObject({ unread: 4, lastReadMessageId: null });

    const read = await s.api(eve, 'POST', `/chats/${chatId}/read`, { body: { upTo: sent[1].id } });
    expect(read.status).toBe(204);
    expect(read.body).toBeUndefined();
    expect(await unread()).toMatchObject({ unread: 2, lastReadMessageId: sent[1].id });

    // Backwards: accepted, changes nothing.
    expect((await s.api(eve, 'POST', `/chats/${chatId}/read`, { body: { upTo: sent[0].id }, instance: two() })).status).toBe(204);
    expect(await unread()).toMatchObject({ unread: 2, lastReadMessageId: sent[1].id });

    // Far past the newest message: stops at it, so a later message is unread again.
    expect((await s.api(eve, 'POST', `/chats/${chatId}/read`, { body: { upTo: '9223372036854775807' } })).status).toBe(204);
    expect(await unread()).toMatchObject({ unread: 0, lastReadMessageId: sent[3].id });
    const later = await s.send(fay, chatId, 'later');
    expect(await unread()).toMatchObject({ unread: 1, lastReadMessageId: sent[3].id });

    // Concurrent markers in any order end at the largest.
    await Promise.all(
      [sent[0].id, later.id, sent[2].id].map((upTo, i) => s.api(eve, 'POST', `/chats/${chatId}/read`, { body: { upTo }, instance: s.instances[i % 2] })),
    );
    expect(await unread()).toMatchObject({ unread: 0, lastReadMessageId: later.id });

    // Every marker that moved was announced to both members, with where it stopped.
    const reads = (userId: string) => events.of(userId).filter((event) => event.type === 'read' && event.chatId === chatId);
    await s.stack.waitFor('read events', () => reads(fay.id).length === 3 && reads(eve.id).length === 3);
    expect(reads(fay.id).map((event) => event.upTo)).toEqual([sent[1].id, sent[3].id, later.id]);
    expect(reads(eve.id)[0]).toEqual({ type: 'read', chatId, userId: eve.id, upTo: sent[1].id });
  });
});
