import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MessengerLiveClient, liveUrl, type LiveClientEvent, type WebSocketLike } from './live-client.js';

/** A WebSocket the test drives: it records what the client sends and fires the events the test asks for. */
class FakeSocket implements WebSocketLike {
  static made: FakeSocket[] = [];
  readyState = 0;
  sent: string[] = [];
  closedWith: { code?: number; reason?: string } | undefined;
  private readonly handlers: Record<string, Array<(event: any) => void>> = {};

  constructor(readonly url: string) {
    FakeSocket.made.push(this);
  }
  send(data: string): void {
    this.sent.push(data);
  }
  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
  }
  addEventListener(type: string, listener: (event: any) => void): void {
    (this.handlers[type] ??= []).push(listener);
  }
  open(): void {
    this.readyState = 1;
  }
  receive(event: object | string): void {
    for (const h of this.handlers.message ?? []) h({ data: typeof event === 'string' ? event : JSON.stringify(event) });
  }
  serverClose(code: number, reason = ''): void {
    this.readyState = 3;
    for (const h of this.handlers.close ?? []) h({ code, reason });
  }
}

const message = (id: string) => ({
  type: 'message' as const,
  message: { id, chatId: '1', authorId: '00000000-0000-4000-8000-000000000001', text: `m${id}`, clientMessageId: `k${id}`, createdAt: '2024-01-01T00:00:00.000Z' },
});

describe('MessengerLiveClient (fake WebSocket, fake timers)', () => {
  let events: LiveClientEvent[];
  let client: MessengerLiveClient | undefined;

  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.made = [];
    events = [];
  });
  afterEach(() => {
    client?.close();
    vi.useRealTimers();
  });

  const start = async (options: Partial<ConstructorParameters<typeof MessengerLiveClient>[0]> = {}) => {
    client = new MessengerLiveClient({
      gateway: 'http://gw.test:8080',
      token: 'tok',
      WebSocket: FakeSocket,
      backoff: { initialMs: 100, maxMs: 1_000 },
      heartbeatMs: 1_000,
      onEvent: (event) => events.push(event),
      ...options,
    });
    await vi.advanceTimersByTimeAsync(0);
    return FakeSocket.made.at(-1)!;
  };

  it('connects through the gateway with the token and no since, then reports servedBy', async () => {
    const socket = await start();
    expect(socket.url).toBe('ws://gw.test:8080/api/v1/messenger/ws?access_token=tok');
    socket.open();
    socket.receive({ type: 'ready', servedBy: 'messenger-a' });
    expect(client!.servedBy).toBe('messenger-a');
    expect(events).toEqual([{ type: 'ready', servedBy: 'messenger-a' }]);
  });

  it('reconnects after a 1012 with since = the newest id seen, and drops duplicates', async () => {
    const first = await start();
    first.open();
    first.receive({ type: 'ready', servedBy: 'a' });
    first.receive(message('5'));
    first.receive(message('7'));
    first.receive(message('6'));
    first.serverClose(1012, 'service_restart');
    expect(client!.servedBy).toBeUndefined();
    const notice = events.at(-1) as Extract<LiveClientEvent, { type: 'disconnected' }>;
    expect(notice).toMatchObject({ type: 'disconnected', code: 1012, reason: 'service_restart' });
    expect(notice.reconnectInMs).toBeGreaterThanOrEqual(50);
    expect(notice.reconnectInMs).toBeLessThanOrEqual(100);

    await vi.advanceTimersByTimeAsync(notice.reconnectInMs);
    const second = FakeSocket.made.at(-1)!;
    expect(second).not.toBe(first);
    expect(new URL(second.url).searchParams.get('since')).toBe('7');
    second.open();
    second.receive({ type: 'ready', servedBy: 'b' });
    // The replay overlaps what the client had.
    second.receive(message('6'));
    second.receive(message('7'));
    second.receive(message('8'));
    expect(events.filter((e) => e.type === 'message').map((e) => (e as any).message.id)).toEqual(['5', '7', '6', '8']);
    expect(client!.duplicatesDropped).toBe(2);
    expect(client!.servedBy).toBe('b');
  });

  it('backs off further on each failed attempt, and starts over after a ready', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(1);
    const first = await start();
    first.serverClose(1006);
    const delays = [];
    for (let i = 0; i < 5; i++) {
      const notice = events.at(-1) as Extract<LiveClientEvent, { type: 'disconnected' }>;
      delays.push(notice.reconnectInMs);
      await vi.advanceTimersByTimeAsync(notice.reconnectInMs);
      FakeSocket.made.at(-1)!.serverClose(1006);
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000]);
    await vi.advanceTimersByTimeAsync(1_000);
    const working = FakeSocket.made.at(-1)!;
    working.open();
    working.receive({ type: 'ready', servedBy: 'c' });
    working.serverClose(1012);
    expect(events.at(-1)).toMatchObject({ type: 'disconnected', reconnectInMs: 100 });
    vi.mocked(Math.random).mockRestore();
  });

  it('pings every heartbeat and replaces a connection that went silent for two', async () => {
    const socket = await start();
    socket.open();
    socket.receive({ type: 'ready', servedBy: 'a' });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(socket.sent).toEqual(['{"type":"ping"}']);
    socket.receive({ type: 'pong' });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(events.some((e) => e.type === 'disconnected')).toBe(false);
    // No frame since the pong: dead after two heartbeats.
    await vi.advanceTimersByTimeAsync(1_500);
    expect(events.at(-1)).toMatchObject({ type: 'disconnected', code: 1006, reason: 'heartbeat_lost' });
    expect(socket.closedWith).toBeDefined();
    // Pongs are the client's business, never the application's.
    expect(events.filter((e) => (e.type as string) === 'pong')).toEqual([]);
  });

  it('asks a token function again before every connect', async () => {
    let n = 0;
    const first = await start({ token: () => `t${(n += 1)}` });
    expect(new URL(first.url).searchParams.get('access_token')).toBe('t1');
    first.serverClose(1006);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(new URL(FakeSocket.made.at(-1)!.url).searchParams.get('access_token')).toBe('t2');
  });

  it('moves since past a resync, so the next resume starts after what REST reloads', async () => {
    const socket = await start({ since: '3' });
    expect(new URL(socket.url).searchParams.get('since')).toBe('3');
    socket.open();
    socket.receive({ type: 'resync', reason: 'too_many_missed', upTo: '2000' });
    expect(client!.lastMessageId).toBe('2000');
  });

  it('ignores frames that are not JSON events', async () => {
    const socket = await start();
    socket.open();
    socket.receive('not json');
    socket.receive('[1,2]');
    socket.receive({ type: 'message' });
    expect(events).toEqual([]);
  });

  it('stops on close(): no reconnect, iterators end', async () => {
    const socket = await start();
    socket.open();
    const iterator = client![Symbol.asyncIterator]();
    socket.receive(message('1'));
    expect(await iterator.next()).toEqual({ done: false, value: message('1') });
    const pending = iterator.next();
    client!.close();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(socket.closedWith).toEqual({ code: 1000, reason: 'client_closed' });
    socket.serverClose(1000);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(FakeSocket.made).toHaveLength(1);
  });
});

describe('liveUrl', () => {
  it('turns http(s) into ws(s) and adds the token and since', () => {
    expect(liveUrl('https://chat.example', undefined, 'a b')).toBe('wss://chat.example/api/v1/messenger/ws?access_token=a+b');
    expect(liveUrl('http://127.0.0.1:8080/', undefined, 't', '42')).toBe('ws://127.0.0.1:8080/api/v1/messenger/ws?access_token=t&since=42');
    expect(liveUrl('ws://127.0.0.1:9', '/ws', 't')).toBe('ws://127.0.0.1:9/ws?access_token=t');
  });
});
