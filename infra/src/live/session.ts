/**
 * One live socket as a service sees it: who is connected, and a bounded `send`. A client that
 * reads slower than events arrive would make the server buffer without limit; past the limit its
 * socket is closed (1008 slow_consumer) and it resumes later from the store, so memory stays
 * bounded whatever a client does.
 */
import type { WebSocket } from 'ws';
import type { AuthenticatedUser } from '../auth/token-verifier.js';
import { CLOSE, closeReason } from './frames.js';

export interface LiveSession {
  /** The caller, from the token verified at the upgrade. */
  readonly user: AuthenticatedUser;
  /** A per-process id of this socket, for logs. */
  readonly id: string;
  /**
   * Queues `event` as one JSON text frame. false: not sent, because the socket is closing or
   * closed, or because the client fell too far behind (the socket is then closed with 1008).
   */
  send(event: object): boolean;
  close(code: number, reason: string): void;
  /** Runs once the socket has closed (at once if it already has). */
  onClose(fn: (code: number, reason: string) => void): void;
  /** Whether the socket is still open for sending. */
  readonly open: boolean;
}

/** Whether one more frame of `frameBytes` would take the unsent bytes past `limit`. Pure. */
export function wouldOverflow(bufferedBytes: number, frameBytes: number, limit: number): boolean {
  return bufferedBytes + frameBytes > limit;
}

export interface SessionHooks {
  maxBufferedBytes: number;
  /** A send not made (closing socket or slow consumer). */
  onDropped(reason: 'closed' | 'slow_consumer'): void;
  onSent(): void;
  /** How long a socket closed for falling behind may take to read its backlog before it is cut. */
  slowCloseGraceMs: number;
}

let counter = 0;

/** ws's readyState OPEN; the numeric constant avoids a value import of the class. */
const OPEN = 1;

export function createSession(ws: WebSocket, user: AuthenticatedUser, hooks: SessionHooks): LiveSession {
  const id = `s${(counter += 1)}`;
  const closeListeners: Array<(code: number, reason: string) => void> = [];
  let closedWith: { code: number; reason: string } | undefined;
  ws.once('close', (code: number, reason: Buffer) => {
    closedWith = { code, reason: reason.toString('utf8') };
    for (const fn of closeListeners.splice(0)) fn(closedWith.code, closedWith.reason);
  });

  const session: LiveSession = {
    user,
    id,
    get open() {
      return ws.readyState === OPEN;
    },
    send(event) {
      if (ws.readyState !== OPEN) {
        hooks.onDropped('closed');
        return false;
      }
      const payload = JSON.stringify(event);
      if (wouldOverflow(ws.bufferedAmount, Buffer.byteLength(payload), hooks.maxBufferedBytes)) {
        hooks.onDropped('slow_consumer');
        session.close(CLOSE.policy, 'slow_consumer');
        // The close frame waits behind the backlog; a client that never reads must not hold it forever.
        setTimeout(() => ws.terminate(), hooks.slowCloseGraceMs).unref();
        return false;
      }
      ws.send(payload);
      hooks.onSent();
      return true;
    },
    close(code, reason) {
      if (ws.readyState === OPEN) ws.close(code, closeReason(reason));
    },
    onClose(fn) {
      if (closedWith) fn(closedWith.code, closedWith.reason);
      else closeListeners.push(fn);
    },
  };
  return session;
}
