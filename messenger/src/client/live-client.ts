/**
 * A messenger live client, for Node (24+) and browsers alike: it holds one WebSocket to
 * `<gateway>/api/v1/messenger/ws`, and when that connection ends for any reason other than
 * close() (1012 when an instance scales down, 1006 when one dies, a lost heartbeat, a refused
 * reconnect) it connects again through the gateway, so to whichever instance is passing, after a
 * backoff with jitter, resuming with `since=<the newest message id seen>`. The server replays what
 * was missed; this client drops what it already had (by message id), so the application sees
 * every message once, in the order received.
 *
 *   const live = new MessengerLiveClient({ gateway: 'http://127.0.0.1:8080', token: () => accessToken });
 *   for await (const event of live) console.log(event);
 *
 * It uses the global `WebSocket` only (no Node imports) and imports types only, so bundlers take
 * nothing else along. The token travels as the `access_token` query parameter (a browser cannot
 * set headers on a WebSocket); `token` may be a function, asked again before every connect so a
 * refreshed token is used.
 */
import type { Message } from '../api.js';
import { DedupeWindow, laterId } from './dedupe-window.js';
import { DEFAULT_BACKOFF, reconnectDelay, type ReconnectBackoff } from './reconnect-delay.js';

/** Events of the server (the platform's `ready` and `error`, messenger's own), and this client's `disconnected`. */
export type LiveClientEvent =
  /** The first event of every connection: which messenger instance holds it. */
  | { type: 'ready'; servedBy: string }
  /** A new message in one of my chats, or one replayed after a reconnect (each id once). */
  | { type: 'message'; message: Message }
  | { type: 'read'; chatId: string; userId: string; upTo: string }
  /**
   * More was missed than the server replays: reload chats and messages through REST (up to
   * message `upTo`); live events follow, and the next resume starts after `upTo`.
   */
  | { type: 'resync'; reason: string; upTo: string | null }
  /** The server refused a frame of ours (the socket stays open). */
  | { type: 'error'; code: string; message: string }
  /** This client's: the connection ended (`heartbeat_lost`: nothing came for 2 heartbeats); the next attempt is in `reconnectInMs`. */
  | { type: 'disconnected'; code: number; reason: string; reconnectInMs: number };

/** The part of the WebSocket API used here (the global one has it; tests may pass their own). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { code: number; reason: string }) => void): void;
  addEventListener(type: 'error', listener: (event: unknown) => void): void;
}

export interface MessengerLiveClientOptions {
  /** The gateway's base URL, `http(s)://host:port` (or `ws(s)://`). */
  gateway: string;
  /** The access token, or a function answering the current one (asked before every connect). */
  token: string | (() => string | Promise<string>);
  /** Resume after this message id on the first connect (the newest one the application has). */
  since?: string;
  /** Called with every event, in order. More listeners: `onEvent()`, or iterate the client. */
  onEvent?(event: LiveClientEvent): void;
  backoff?: ReconnectBackoff;
  /**
   * An app-level `{type:"ping"}` goes out this often (default 15 s; browsers cannot send
   * WebSocket pings, and cannot see the server's); nothing received for twice this → the
   * connection is taken for dead and replaced.
   */
  heartbeatMs?: number;
  /** Message ids remembered for dropping duplicates (default 10 000). */
  dedupeCapacity?: number;
  /** The upgrade path on the gateway. */
  path?: string;
  /** A WebSocket constructor (default: the global one). */
  WebSocket?: new (url: string) => WebSocketLike;
}

const OPEN = 1;
/** Close code this client reports for a connection it gave up on (no close frame came). */
const ABNORMAL = 1006;

export class MessengerLiveClient implements AsyncIterable<LiveClientEvent> {
  private readonly listeners = new Set<(event: LiveClientEvent) => void>();
  private readonly endListeners = new Set<() => void>();
  private readonly seen: DedupeWindow;
  private readonly backoff: ReconnectBackoff;
  private readonly heartbeatMs: number;
  private abandon: (() => void) | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private attempt = 0;
  private stopped = false;
  private newest: string | undefined;
  private current: string | undefined;
  private duplicateCount = 0;
  private connectCount = 0;

  constructor(private readonly options: MessengerLiveClientOptions) {
    this.seen = new DedupeWindow(options.dedupeCapacity);
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
    this.newest = options.since;
    if (options.onEvent) this.listeners.add(options.onEvent);
    // Connects on the next tick: a listener or iterator added right after construction misses nothing.
    queueMicrotask(() => void this.connect());
  }

  /** The messenger instance holding the current connection (undefined until its `ready`, and between connections). */
  get servedBy(): string | undefined {
    return this.current;
  }

  /** The newest message id seen: where the next connection resumes. */
  get lastMessageId(): string | undefined {
    return this.newest;
  }

  /** Messages dropped because they were seen already (the overlap of a resume). */
  get duplicatesDropped(): number {
    return this.duplicateCount;
  }

  /** Connection attempts so far. */
  get connects(): number {
    return this.connectCount;
  }

  /** Adds a listener; the function returned removes it. */
  onEvent(listener: (event: LiveClientEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Closes the connection (1000) and stops reconnecting; iterators end. */
  close(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.abandon?.();
    this.current = undefined;
    for (const end of this.endListeners) end();
  }

  /** Events from now on, in order, until close(). Events wait in memory until read. */
  [Symbol.asyncIterator](): AsyncIterator<LiveClientEvent> {
    const queue: LiveClientEvent[] = [];
    let wake: (() => void) | undefined;
    const push = (event: LiveClientEvent) => {
      queue.push(event);
      wake?.();
    };
    const end = () => wake?.();
    this.listeners.add(push);
    this.endListeners.add(end);
    const finish = (): IteratorResult<LiveClientEvent> => {
      this.listeners.delete(push);
      this.endListeners.delete(end);
      return { done: true, value: undefined };
    };
    return {
      next: async () => {
        while (queue.length === 0) {
          if (this.stopped) return finish();
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
        return { done: false, value: queue.shift()! };
      },
      return: async () => finish(),
    };
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.connectCount += 1;
    let token: string;
    try {
      token = typeof this.options.token === 'function' ? await this.options.token() : this.options.token;
    } catch {
      return this.retry(ABNORMAL, 'token_unavailable');
    }
    if (this.stopped) return;
    const Socket = this.options.WebSocket ?? (globalThis.WebSocket as unknown as new (url: string) => WebSocketLike);
    let socket: WebSocketLike;
    try {
      socket = new Socket(liveUrl(this.options.gateway, this.options.path, token, this.newest));
    } catch {
      return this.retry(ABNORMAL, 'invalid_url');
    }
    let lastFrameAt = Date.now();
    let ended = false;
    const end = (code: number, reason: string) => {
      if (ended) return;
      ended = true;
      clearInterval(heartbeat);
      this.abandon = undefined;
      this.current = undefined;
      if (!this.stopped) this.retry(code, reason);
    };
    // Covers connecting too: an upgrade that hangs is dead after two heartbeats.
    const heartbeat = setInterval(() => {
      if (Date.now() - lastFrameAt > 2 * this.heartbeatMs) {
        closeQuietly(socket);
        return end(ABNORMAL, 'heartbeat_lost');
      }
      if (socket.readyState === OPEN) sendQuietly(socket, '{"type":"ping"}');
    }, this.heartbeatMs);
    this.abandon = () => {
      ended = true;
      clearInterval(heartbeat);
      this.abandon = undefined;
      closeQuietly(socket, 1000, 'client_closed');
    };
    socket.addEventListener('message', ({ data }) => {
      if (ended) return;
      lastFrameAt = Date.now();
      if (typeof data === 'string') this.receive(data);
    });
    socket.addEventListener('close', ({ code, reason }) => end(code, reason));
    // A failed connect or a broken connection: a close event follows, which is where it is handled.
    socket.addEventListener('error', () => {});
  }

  private receive(data: string): void {
    let event: LiveClientEvent | { type: 'pong' };
    try {
      event = JSON.parse(data);
    } catch {
      return;
    }
    if (typeof event !== 'object' || event === null || typeof event.type !== 'string') return;
    switch (event.type) {
      case 'pong':
        return;
      case 'ready':
        // A connection that worked: the next failure starts the backoff over.
        this.attempt = 0;
        this.current = event.servedBy;
        break;
      case 'message': {
        const id = event.message?.id;
        if (typeof id !== 'string') return;
        if (!this.seen.firstTime(id)) {
          this.duplicateCount += 1;
          return;
        }
        this.newest = laterId(this.newest, id);
        break;
      }
      case 'resync':
        if (typeof event.upTo === 'string') this.newest = laterId(this.newest, event.upTo);
        break;
    }
    this.emit(event);
  }

  private retry(code: number, reason: string): void {
    if (this.stopped) return;
    const reconnectInMs = reconnectDelay(this.attempt, this.backoff);
    this.attempt += 1;
    this.emit({ type: 'disconnected', code, reason, reconnectInMs });
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.connect(), reconnectInMs);
  }

  private emit(event: LiveClientEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // A listener's bug must not stop the others, nor this client.
      }
    }
  }
}

/** `<gateway><path>?access_token=..[&since=..]`, with http(s) turned into ws(s). Pure. */
export function liveUrl(gateway: string, path = '/api/v1/messenger/ws', token: string, since?: string): string {
  const url = new URL(path, gateway);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  url.searchParams.set('access_token', token);
  if (since !== undefined) url.searchParams.set('since', since);
  return url.toString();
}

function closeQuietly(socket: WebSocketLike, code?: number, reason?: string): void {
  try {
    socket.close(code, reason);
  } catch {
    // Already closing, or never opened.
  }
}

function sendQuietly(socket: WebSocketLike, data: string): void {
  try {
    socket.send(data);
  } catch {
    // The close event that follows is handled.
  }
}
