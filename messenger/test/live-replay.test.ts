/**
 * The messenger socket on one instance, directly (no gateway): live events of my chats only, and
 * resuming with `?since=`: the missed messages come first, from MySQL, each once, in id order,
 * then live events; a replay overlaps a little before `since` (clients dedupe by id); more missed
 * than the replay limit → `resync`; a malformed `since` → 400 before the protocol switches.
 * Real processes, MariaDB, Redis and Consul.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveClient, refusedUpgrade } from '../../infra/test/support/live-clients.js';
import { waitFor } from '../../test/support/wait.js';
import { MessengerTestStack, type TestUser } from './support/messenger-stack.js';

const REPLAY_LIMIT = 5;

describe('messenger live socket: live events and resume (real processes, MariaDB, Redis)', () => {
  const s = new MessengerTestStack({ MESSENGER_REPLAY_LIMIT: String(REPLAY_LIMIT) });
  let ana: TestUser;
  let bo: TestUser;
  let cy: TestUser;
  let chatId: string;
  const sockets: LiveClient[] = [];

  const connect = async (user: TestUser, since?: string) => {
    const query = since === undefined ? '' : `?since=${since}`;
    const client = new LiveClient(`ws://127.0.0.1:${s.messenger.port}/ws${query}`, { headers: { authorization: `Bearer ${user.token}` } });
    sockets.push(client);
    await client.opened;
    expect(await client.next()).toEqual({ type: 'ready', servedBy: s.messenger.serviceId });
    return client;
  };
  /** The next `count` events, which must all be messages; their ids. */
  const messageIds = async (client: LiveClient, count: number) => {
    const events = [];
    for (let i = 0; i < count; i++) events.push(await client.next());
    for (const event of events) expect(event.type, JSON.stringify(event)).toBe('message');
    return events.map((event) => event.message.id as string);
  };

  beforeAll(async () => {
    await s.start(1);
    [ana, bo, cy] = [await s.user('Ana'), await s.user('Bo'), await s.user('Cy')];
    chatId = await s.dialog(ana, bo);
  }, 90_000);
  afterAll(async () => {
    for (const socket of sockets) socket.ws.terminate();
    await s.teardown();
  });

  it('delivers messages and read receipts of my chats to every member (the author too), nothing to others', async () => {
    const [anaSocket, boSocket, cySocket] = [await connect(ana), await connect(bo), await connect(cy)];
    const first = await s.send(ana, chatId, 'one');
    const second = await s.send(bo, chatId, 'two');
    for (const socket of [anaSocket, boSocket]) {
      expect(await socket.next()).toEqual({ type: 'message', message: first });
      expect(await socket.next()).toEqual({ type: 'message', message: second });
    }
    expect((await s.api(bo, 'POST', `/chats/${chatId}/read`, { body: { upTo: second.id } })).status).toBe(204);
    for (const socket of [anaSocket, boSocket]) {
      expect(await socket.next()).toEqual({ type: 'read', chatId, userId: bo.id, upTo: second.id });
    }
    expect(cySocket.pending()).toEqual([]);
    for (const socket of [anaSocket, boSocket, cySocket]) socket.ws.close();
  });

  it('sends a message once to a socket that hears it announced again (a retried send)', async () => {
    const boSocket = await connect(bo);
    const key = `retried-${s.run}`;
    const first = await s.send(ana, chatId, 'sent twice', key);
    const retry = await s.api(ana, 'POST', `/chats/${chatId}/messages`, { body: { text: 'sent twice', clientMessageId: key } });
    expect(retry.status).toBe(200);
    const next = await s.send(ana, chatId, 'the one after');
    expect(await boSocket.next()).toEqual({ type: 'message', message: first });
    expect(await boSocket.next()).toEqual({ type: 'message', message: next });
    boSocket.ws.close();
  });

  it('replays what a resumed socket missed, once each and in id order, before live events', async () => {
    const seen = await s.send(ana, chatId, 'seen');
    const missed = [await s.send(ana, chatId, 'missed 1'), await s.send(bo, chatId, 'missed 2'), await s.send(ana, chatId, 'missed 3')];
    const boSocket = await connect(bo, seen.id);
    // The replay starts a little before `since` (the overlap window): skip what Bo had.
    const replayed: string[] = [];
    while (replayed.at(-1) !== missed.at(-1)!.id) replayed.push(...(await messageIds(boSocket, 1)));
    const afterSince = replayed.filter((id) => BigInt(id) > BigInt(seen.id));
    expect(afterSince).toEqual(missed.map((m) => m.id));
    expect(new Set(replayed).size).toBe(replayed.length);
    expect([...replayed].sort((a, b) => Number(BigInt(a) - BigInt(b)))).toEqual(replayed);

    const live = await s.send(ana, chatId, 'live after the replay');
    expect(await boSocket.next()).toEqual({ type: 'message', message: live });
    boSocket.ws.close();
  });

  it('resends messages stored shortly before `since` (overlap for commit-order inversions)', async () => {
    const earlier = await s.send(ana, chatId, 'just before');
    const since = await s.send(ana, chatId, 'the last one seen');
    const boSocket = await connect(bo, since.id);
    const live = await s.send(ana, chatId, 'live after the overlap');
    const replayed: string[] = [];
    while (replayed.at(-1) !== live.id) replayed.push(...(await messageIds(boSocket, 1)));
    // The newest messages stored within 2 s before `since` come again (at most the replay limit);
    // `since` itself does not.
    expect(replayed).toContain(earlier.id);
    expect(replayed).not.toContain(since.id);
    expect(replayed.length).toBeLessThanOrEqual(REPLAY_LIMIT + 1);
    expect(new Set(replayed).size).toBe(replayed.length);
    boSocket.ws.close();
  });

  it('sends resync instead of a replay past the limit, then live events', async () => {
    const since = await s.send(ana, chatId, 'before the gap');
    // Past the overlap window of `since`, so the replay is exactly what follows it... or more.
    let last = since;
    for (let i = 0; i <= REPLAY_LIMIT; i++) last = await s.send(bo, chatId, `gap ${i}`);
    const anaSocket = await connect(ana, since.id);
    expect(await anaSocket.next()).toEqual({ type: 'resync', reason: 'too_many_missed', upTo: last.id });
    const live = await s.send(bo, chatId, 'after the gap');
    expect(await anaSocket.next()).toEqual({ type: 'message', message: live });
    anaSocket.ws.close();
  });

  it('replays nothing of chats that are not mine, whatever `since` says', async () => {
    const first = await s.send(ana, chatId, 'not for Cy');
    await s.send(bo, chatId, 'not for Cy either');
    const cyChat = await s.dialog(cy, ana);
    const mine = await s.send(ana, cyChat, 'for Cy');
    const cySocket = await connect(cy, String(BigInt(first.id) - 1n));
    // Replayed in id order: anything of Ana and Bo's chat would come before this.
    expect(await cySocket.next()).toEqual({ type: 'message', message: mine });
    cySocket.ws.close();
  });

  it('refuses a malformed since with 400 before switching, and a missing token with 401', async () => {
    for (const since of ['abc', '0', '-1', '1.5', '99999999999999999999', '']) {
      const refused = await refusedUpgrade(s.messenger.port, `/ws?since=${encodeURIComponent(since)}`, { authorization: `Bearer ${ana.token}` });
      expect(refused.status, since).toBe(400);
      expect(JSON.parse(refused.body).error.code).toBe('invalid_request');
    }
    const anonymous = await refusedUpgrade(s.messenger.port, '/ws?since=1');
    expect(anonymous.status).toBe(401);
    // The instance still serves.
    await waitFor('a socket after the refusals', async () => (await connect(ana)) && true);
  });
});
