import type { Message } from '../api.js';
// The client's window is plain data code with no browser or server dependency: the socket's
// server side keeps the same kind of window for what it sent.
import { DedupeWindow } from '../client/dedupe-window.js';
import { userTopic } from './live-events.js';

/**
 * One user's live socket, from connect to close: every new message and read receipt of their
 * chats, whichever instance stored it, and on a resumed connection (`?since=<message id>`) first
 * the messages they missed, from MySQL.
 *
 * The order of the steps is what makes resuming lossless:
 *   1. subscribe to `user:<id>` and BUFFER what arrives;
 *   2. wait until Redis confirmed the subscription (from then on every publish reaches us);
 *   3. read the missed messages from MySQL and send them;
 *   4. send the buffered events, minus the messages the replay already sent;
 *   5. pass live events straight through (still minus messages already sent: a message committed
 *      before the read may have its publish arrive after it).
 * A message committed before step 3's read is in the replay; one committed after is published
 * after step 2, so it is in the buffer or live. Either way the client gets it, and the server
 * sends it once per connection: a message can also be announced twice (a retried send announces
 * again, Messages.send), and the connection drops an id it sent recently (its replay's ids and
 * the last RECENT_LIVE_IDS more). Across connections the client dedupes by id (the replay
 * overlaps what it had, see ReplayStore.missedSince).
 *
 * If the bus later loses Redis, events stop arriving without a word: the socket is closed (1013)
 * so the client resumes, and step 3 brings back what was missed.
 */

/** Events on the messenger socket, beyond the platform's `ready`, `pong` and `error`. */
export type FeedEvent =
  | { type: 'message'; message: Message }
  | { type: 'read'; chatId: string; userId: string; upTo: string }
  /**
   * More was missed than a socket replays (REPLAY_LIMIT): the client reloads its chats through
   * REST (GET /chats, GET /chats/:id/messages) up to message `upTo` and resumes after it; live
   * events follow.
   */
  | { type: 'resync'; reason: 'too_many_missed'; upTo: string | null };

/** What a resumed socket missed (ReplayStore.missedSince). */
export interface Missed {
  /**
   * Messages before `since` stored at most OVERLAP_SECONDS before it, the newest `limit` of them, by id (store/replay.ts): ids are
   * taken before commit, so with concurrent senders a smaller id can become visible after a
   * larger one the client already saw. Mostly what the client has; it dedupes by id.
   */
  overlap: Message[];
  /** Messages after `since`, by id, at most `limit`. */
  after: Message[];
  /** More than `limit` came after `since`. */
  truncated: boolean;
}

/** Where missed messages are read from (store/replay.ts). */
export interface ReplayStore {
  /** Messages of `userId`'s chats missed by a client that saw `since`, by id. */
  missedSince(userId: string, since: string, limit: number): Promise<Missed>;
  /** The newest message id of `userId`'s chats (null: none). */
  latestMessageId(userId: string): Promise<string | null>;
}

/** The bus as the feed uses it (the platform's EventBus). */
export interface FeedBus {
  subscribe(topic: string, listener: (event: Record<string, unknown>) => void): (() => void) & { readonly ready: Promise<void> };
  /** `listener` runs whenever the bus lost its subscriptions (Redis gone): events are being missed. */
  onInterrupted(listener: () => void): () => void;
}

/** The socket as the feed uses it (the platform's LiveSession). */
export interface FeedSocket {
  readonly user: { id: string };
  send(event: object): boolean;
  close(code: number, reason: string): void;
  onClose(fn: () => void): void;
}

/** At most this many messages after `since` are replayed on one connect (plus the overlap); past it, `resync`. */
export const REPLAY_LIMIT = 1000;
/**
 * Message ids sent live that a connection remembers, beyond its replay: a second announcement of
 * a message (a retried send) comes within seconds of the first. Small, since every open socket
 * holds its own (~6 KiB at most).
 */
export const RECENT_LIVE_IDS = 128;
/** Events heard while the replay is read; a burst past this closes the socket (it resumes). */
export const CONNECT_BUFFER_LIMIT = 5000;
/** 1013 Try Again Later: the client reconnects with its `since`, nothing is lost. */
const TRY_AGAIN_LATER = 1013;

export interface LiveFeedOptions {
  replayLimit?: number;
  bufferLimit?: number;
}

/** Runs steps 1–5 for one socket; resolves once live events flow (rejects: Redis or MySQL failed). */
export async function startFeed(
  socket: FeedSocket,
  since: string | undefined,
  bus: FeedBus,
  store: ReplayStore,
  { replayLimit = REPLAY_LIMIT, bufferLimit = CONNECT_BUFFER_LIMIT }: LiveFeedOptions = {},
): Promise<void> {
  const userId = socket.user.id;
  // The ids this connection sent: its replay's (sized below, once the replay is read) and the
  // last RECENT_LIVE_IDS live ones.
  let sent = new DedupeWindow(RECENT_LIVE_IDS);
  let buffer: Array<Record<string, unknown>> | undefined = [];
  let closed = false;

  const deliver = (event: Record<string, unknown>) => {
    const id = messageIdOf(event);
    if (id !== undefined && !sent.firstTime(id)) return;
    socket.send(event);
  };
  const unsubscribe = bus.subscribe(userTopic(userId), (event) => {
    if (closed) return;
    if (!buffer) return deliver(event);
    if (buffer.length >= bufferLimit) {
      closed = true;
      buffer = [];
      socket.close(TRY_AGAIN_LATER, 'too_many_events_while_connecting');
      return;
    }
    buffer.push(event);
  });
  // Events published while the bus is cut off from Redis never arrive, and nothing would tell
  // the client: close instead, so it resumes with `since` and the replay fills the gap from
  // MySQL (its reconnections fail until Redis is back: live delivery pauses, nothing is lost).
  const stopWatching = bus.onInterrupted(() => {
    if (closed) return;
    closed = true;
    socket.close(TRY_AGAIN_LATER, 'live_events_interrupted');
  });
  socket.onClose(() => {
    closed = true;
    stopWatching();
    unsubscribe();
  });

  await unsubscribe.ready;
  if (since !== undefined && !closed) {
    const missed = await store.missedSince(userId, since, replayLimit);
    if (closed) return;
    if (missed.truncated) {
      socket.send({ type: 'resync', reason: 'too_many_missed', upTo: await store.latestMessageId(userId) } satisfies FeedEvent);
    } else {
      const replay = [...missed.overlap, ...missed.after];
      sent = new DedupeWindow(replay.length + RECENT_LIVE_IDS);
      for (const message of replay) {
        if (sent.firstTime(message.id)) socket.send({ type: 'message', message } satisfies FeedEvent);
      }
    }
  }
  const heard = buffer;
  buffer = undefined;
  if (!closed) for (const event of heard) deliver(event);
}

/** The message id of a `message` event, undefined for any other event. */
export function messageIdOf(event: Record<string, unknown>): string | undefined {
  if (event.type !== 'message') return undefined;
  const id = (event.message as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' ? id : undefined;
}
