import { describe, expect, it } from 'vitest';
import type { Message } from '../api.js';
import { RECENT_LIVE_IDS, startFeed, type FeedBus, type FeedSocket, type Missed, type ReplayStore } from './live-feed.js';

const message = (id: string): Message => ({
  id,
  chatId: '1',
  authorId: '00000000-0000-4000-8000-000000000001',
  text: `m${id}`,
  clientMessageId: `k${id}`,
  createdAt: '2024-01-01T00:00:00.000Z',
});
const event = (id: string) => ({ type: 'message', message: message(id) });

/** A bus whose subscription is confirmed when the test says so, and that publishes on demand. */
function fakeBus() {
  const listeners = new Map<string, (event: Record<string, unknown>) => void>();
  const interruptions = new Set<() => void>();
  let confirm!: () => void;
  const ready = new Promise<void>((resolve) => (confirm = resolve));
  const log: string[] = [];
  const bus: FeedBus = {
    subscribe(topic, listener) {
      log.push(`subscribe ${topic}`);
      listeners.set(topic, listener);
      return Object.assign(
        () => {
          log.push(`unsubscribe ${topic}`);
          listeners.delete(topic);
        },
        { ready },
      );
    },
    onInterrupted(listener) {
      interruptions.add(listener);
      return () => interruptions.delete(listener);
    },
  };
  return {
    bus,
    log,
    confirm,
    publish: (topic: string, e: Record<string, unknown>) => listeners.get(topic)?.(e),
    interrupt: () => [...interruptions].forEach((listener) => listener()),
    watchers: () => interruptions.size,
  };
}

function fakeSocket(userId = 'u1') {
  const sent: any[] = [];
  const closes: Array<() => void> = [];
  let closedWith: [number, string] | undefined;
  const socket: FeedSocket = {
    user: { id: userId },
    send: (e) => (sent.push(e), true),
    close: (code, reason) => (closedWith = [code, reason]),
    onClose: (fn) => closes.push(fn),
  };
  return { socket, sent, closed: () => closedWith, fireClose: () => closes.forEach((fn) => fn()) };
}

function fakeStore(missed: Missed, latest: string | null = null, onRead: () => void = () => {}) {
  const calls: Array<[string, string, number]> = [];
  const store: ReplayStore = {
    async missedSince(userId, since, limit) {
      calls.push([userId, since, limit]);
      onRead();
      return missed;
    },
    async latestMessageId() {
      return latest;
    },
  };
  return { store, calls };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('startFeed', () => {
  it('without since: subscribes, waits for Redis, then passes live events through (no store read)', async () => {
    const { bus, log, confirm, publish } = fakeBus();
    const { socket, sent } = fakeSocket();
    const { store, calls } = fakeStore({ overlap: [], after: [], truncated: false });
    const started = startFeed(socket, undefined, bus, store);
    expect(log).toEqual(['subscribe user:u1']);
    publish('user:u1', event('9'));
    expect(sent).toEqual([]);
    confirm();
    await started;
    expect(sent).toEqual([event('9')]);
    publish('user:u1', { type: 'read', chatId: '1', userId: 'u2', upTo: '9' });
    expect(sent.at(-1)).toEqual({ type: 'read', chatId: '1', userId: 'u2', upTo: '9' });
    expect(calls).toEqual([]);
  });

  it('with since: replays after the subscription is confirmed, then what was heard meanwhile, each message once', async () => {
    const { bus, confirm, publish } = fakeBus();
    const { socket, sent } = fakeSocket();
    // Heard live while the replay is read: 6 (also in the replay) and 8 (not).
    const { store, calls } = fakeStore({ overlap: [message('4')], after: [message('6'), message('7')], truncated: false }, null, () => {
      publish('user:u1', event('6'));
      publish('user:u1', event('8'));
    });
    const started = startFeed(socket, '5', bus, store, { replayLimit: 10 });
    await flush();
    expect(calls).toEqual([]);
    confirm();
    await started;
    expect(calls).toEqual([['u1', '5', 10]]);
    expect(sent.map((e) => e.message.id)).toEqual(['4', '6', '7', '8']);
    // A replayed message whose publish arrives late is still not sent twice; a new one is.
    publish('user:u1', event('7'));
    publish('user:u1', event('9'));
    expect(sent.map((e) => e.message.id)).toEqual(['4', '6', '7', '8', '9']);
  });

  it('sends a message announced twice once (a retried send announces it again), within the recent-id window', async () => {
    const { bus, confirm, publish } = fakeBus();
    const { socket, sent } = fakeSocket();
    const { store } = fakeStore({ overlap: [], after: [message('2')], truncated: false });
    confirm();
    await startFeed(socket, '1', bus, store, { replayLimit: 1 });
    publish('user:u1', event('3'));
    publish('user:u1', event('3'));
    publish('user:u1', event('2'));
    publish('user:u1', { type: 'read', chatId: '1', userId: 'u2', upTo: '3' });
    publish('user:u1', { type: 'read', chatId: '1', userId: 'u2', upTo: '3' });
    expect(sent.map((e) => e.message?.id ?? e.type)).toEqual(['2', '3', 'read', 'read']);
    // Bounded: once enough newer messages went by, the oldest id is forgotten.
    for (let i = 0; i < 2 + RECENT_LIVE_IDS; i++) publish('user:u1', event(String(100 + i)));
    sent.length = 0;
    publish('user:u1', event('3'));
    publish('user:u1', event(String(100 + RECENT_LIVE_IDS)));
    expect(sent.map((e) => e.message.id)).toEqual(['3']);
  });

  it('past the replay limit: resync with the newest id instead of the replay', async () => {
    const { bus, confirm } = fakeBus();
    const { socket, sent } = fakeSocket();
    const { store } = fakeStore({ overlap: [message('1')], after: [message('2'), message('3')], truncated: true }, '1234');
    confirm();
    await startFeed(socket, '1', bus, store, { replayLimit: 2 });
    expect(sent).toEqual([{ type: 'resync', reason: 'too_many_missed', upTo: '1234' }]);
  });

  it('unsubscribes when the socket closes, and sends nothing after', async () => {
    const { bus, log, confirm, publish } = fakeBus();
    const { socket, sent, fireClose } = fakeSocket();
    const { store } = fakeStore({ overlap: [], after: [message('2')], truncated: false }, null, () => fireClose());
    confirm();
    await startFeed(socket, '1', bus, store);
    expect(log).toEqual(['subscribe user:u1', 'unsubscribe user:u1']);
    expect(sent).toEqual([]);
    publish('user:u1', event('3'));
    expect(sent).toEqual([]);
  });

  it('closes with 1013 when the bus loses Redis (events are being missed: the client resumes), and stops watching once closed', async () => {
    const { bus, confirm, interrupt, watchers } = fakeBus();
    const { socket, closed, fireClose } = fakeSocket();
    const { store } = fakeStore({ overlap: [], after: [], truncated: false });
    confirm();
    await startFeed(socket, undefined, bus, store);
    expect(watchers()).toBe(1);
    expect(closed()).toBeUndefined();
    interrupt();
    expect(closed()).toEqual([1013, 'live_events_interrupted']);
    fireClose();
    expect(watchers()).toBe(0);
  });

  it('closes with 1013 when too many events pile up while connecting (the client resumes)', async () => {
    const { bus, confirm, publish } = fakeBus();
    const { socket, sent, closed } = fakeSocket();
    const { store } = fakeStore({ overlap: [], after: [], truncated: false }, null, () => {
      for (let i = 10; i < 14; i++) publish('user:u1', event(String(i)));
    });
    confirm();
    await startFeed(socket, '1', bus, store, { bufferLimit: 3 });
    expect(closed()).toEqual([1013, 'too_many_events_while_connecting']);
    expect(sent).toEqual([]);
  });
});
