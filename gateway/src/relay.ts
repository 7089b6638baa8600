import type { IncomingMessage, ServerResponse } from 'node:http';
import { UpstreamError, type Cancellation, type Logger, type RelayedResponse } from '@switchyard/infra';

/** What a relay needs beyond the answer and the response: set once per gateway (proxy.ts). */
export interface RelayOptions {
  logger?: Logger;
  /**
   * Answers an error as the dispatch does (JSON, status from the error): used when the upstream
   * fails after its headers but before the first body byte reached the client, which then gets a
   * 502 instead of a cut connection. Without it such a client's connection is cut.
   */
  respond?: (error: unknown, req: IncomingMessage, res: ServerResponse) => void;
  /**
   * A relay whose client makes no progress for this long while the upstream waits on it is cut,
   * and the upstream connection freed (GATEWAY_RELAY_STALL_MS; relayBody says what progress is).
   * None: no limit.
   */
  stallMs?: number;
}

/** The request a relay answers: for its logs, and for the 502 that may replace the upstream's answer. */
export interface RelayedCall {
  req: IncomingMessage;
  service: string;
  /** The upstream path without its query string (which may carry secrets): logs name this. */
  path: string;
  requestId: string;
  idempotent: boolean;
  /** The upstream's headers as set on the response (names lower case). */
  upstreamHeaders: Record<string, unknown>;
  /** What x-served-by said before the upstream's answer (this gateway's id). */
  gatewayServedBy: ReturnType<ServerResponse['getHeader']>;
  /** The gateway's own headers the upstream's overwrote, as name, value, name, value...; mostly none. */
  overwritten: unknown[] | undefined;
  /**
   * The answer's whole header block as name, value pairs, when none of it is on the response yet
   * (proxy.ts): written with `res.writeHead` just before the first byte, so until then the answer
   * can still become the gateway's own.
   */
  headerBlock?: Array<string | string[]>;
  /** Sets the gateway's own headers on such an answer of the gateway's (the dispatch's ProxiedRequest). */
  proxied?: { answerHeaders?: (req: IncomingMessage, res: ServerResponse) => void };
}

/**
 * Delivers the upstream body into the client's response with back-pressure: a full socket pauses
 * the upstream connection until it drains. Should the upstream fail mid-body, the client's
 * connection is destroyed rather than ended: a clean end would pass a truncated body off as
 * complete (before the first byte left, the client gets the gateway's 502 instead). A client
 * that leaves stops the upstream transfer the same way. The body comes through
 * ServiceClient.relay, chunk by chunk from undici's parser into `res.write`: no stream between
 * them, and no listener on the upstream side (a Readable and stream.pipeline's bookkeeping cost
 * more than the rest of a small answer's relay).
 *
 * A client that makes no progress for `stallMs` while the upstream waits on it is cut the same
 * way, and the upstream connection freed: a client that stops reading must not hold one of the
 * instance's pooled connections for ever. Progress is a write to the client's socket completing
 * (the response's unsent bytes going down), as nginx's send_timeout counts between two writes,
 * not over the whole transfer. A full socket takes more only once the kernel has sent about half
 * of its send buffer (which it sizes to the connection: megabytes on loopback, less over a slow
 * link), so a client must take that much per `stallMs` to count as reading. An answer that merely
 * waits for data (server-sent events between events) never starts the clock.
 */
export function relayBody(answer: RelayedResponse, res: ServerResponse, clientGone: Cancellation, options: RelayOptions, call: RelayedCall): void {
  const body = answer.body;
  const { logger, stallMs, respond } = options;
  // One object per request: the sink's methods, and the response's two listeners. Its methods are
  // named by their keys (under tsx, a closure held in a named const gets a defineProperty for its
  // name on every request: esbuild's keepNames). A class with its listeners bound in the
  // constructor instead cost more CPU per proxied request side by side (60-75 µs here, 80-112
  // there, the difference in the garbage collector's samples; why was not found).
  const relay = {
    settled: false,
    /** The client's socket is full: the upstream is paused until it drains. */
    paused: false,
    /**
     * The stall clock: made at the first pause (a small answer never makes one), re-armed with
     * refresh() at later pauses and whenever the client took something while paused.
     */
    stall: undefined as NodeJS.Timeout | undefined,
    /** What the response still held unsent when the stall clock last started. */
    unsentMark: 0,
    /** The header block still to write (RelayedCall.headerBlock), until the first byte. */
    block: call.headerBlock,
    /** Writes the header block; throws what writeHead refuses (a header node will not send). */
    head() {
      const block = relay.block!;
      relay.block = undefined;
      res.writeHead(res.statusCode, block);
    },
    settle() {
      relay.settled = true;
      if (relay.stall) clearTimeout(relay.stall);
      res.off('drain', relay.drain).off('close', relay.clientClosed);
    },
    write(chunk: Buffer) {
      if (relay.block) relay.head();
      if (relay.paused) {
        // A chunk already on its way when the pause came (a held body's next): it adds to the
        // backlog, not to the client's progress.
        const before = res.writableLength;
        res.write(chunk);
        relay.unsentMark += res.writableLength - before;
        return false;
      }
      const more = res.write(chunk);
      if (!more && stallMs !== undefined) {
        relay.paused = true;
        relay.unsentMark = res.writableLength;
        if (relay.stall) relay.stall.refresh();
        else relay.stall = setTimeout(relay.stallCheck, stallMs);
      }
      return more;
    },
    end(lastChunk?: Buffer) {
      relay.settle();
      if (relay.block) relay.head();
      res.end(lastChunk);
    },
    fail(error: Error) {
      relay.settle();
      if (respond && !res.headersSent && !res.destroyed && !clientGone.aborted) {
        // Nothing of the upstream's answer reached the client yet (headers go out with the first
        // byte): it gets the gateway's 502 naming the service, not a cut connection. A header
        // block never written left nothing of the upstream's on the response.
        if (call.headerBlock) {
          relay.block = undefined;
          call.proxied?.answerHeaders?.(call.req, res);
        } else restoreGatewayHeaders(res, call);
        respond(new UpstreamAnswerLost(call.service, call.idempotent, error), call.req, res);
        return;
      }
      // Cut, never ended: the client must not take a truncated body for a whole one.
      res.destroy();
      if (!clientGone.aborted) logger?.warn({ ...what(call), err: error.message }, 'upstream body failed mid-transfer; client connection cut');
    },
    drain() {
      relay.paused = false;
      body.resume();
    },
    /** The stall clock ran out: cut the relay, unless the client took something meanwhile. */
    stallCheck() {
      // Drained since (the clock lapses; the next pause re-arms it), or already over.
      if (relay.settled || !relay.paused) return;
      const unsent = res.writableLength;
      if (unsent < relay.unsentMark) {
        // A write to the client's socket completed while paused: slow, but taking the answer.
        relay.unsentMark = unsent;
        relay.stall!.refresh();
        return;
      }
      relay.settle();
      body.abort();
      // Cut, never ended, as for a failed upstream: what the client got is not the whole answer.
      res.destroy();
      logger?.warn({ ...what(call), stallMs }, 'client took nothing of the answer for too long; relay cut, upstream connection freed');
    },
    clientClosed() {
      if (relay.settled) return;
      // The client left mid-body: stop reading from the upstream (its attempt ends with the body).
      relay.settle();
      body.abort();
    },
  };
  res.on('drain', relay.drain).on('close', relay.clientClosed);
  // The client may have left before the relay began (its close event is gone by now).
  if (res.closed || res.destroyed) return relay.clientClosed();
  // Server-sent events: the client learns at once that the stream is open, before the first event.
  if (String(answer.headers['content-type'] ?? '').startsWith('text/event-stream')) {
    try {
      if (relay.block) relay.head();
      res.flushHeaders();
    } catch (error) {
      body.abort();
      return relay.fail(error instanceof Error ? error : new Error(String(error)));
    }
  }
  body.deliver(relay);
}

/** A relay's log fields: never the query string, which may carry secrets. */
function what(call: RelayedCall): { service: string; path: string; requestId: string } {
  return { service: call.service, path: call.path, requestId: call.requestId };
}

/**
 * The upstream failed after its headers, before the first byte of its body reached the client:
 * 502 upstream_answer_lost. On a route that is not idempotent the upstream may well have done
 * what was asked (its headers may have said 201): the message says so, and a code apart from
 * upstream_unavailable keeps clients from reading it as "nothing happened there, try again".
 */
export class UpstreamAnswerLost extends UpstreamError {
  override name = 'UpstreamAnswerLost';
  override readonly status = 502;
  override readonly code = 'upstream_answer_lost';
  constructor(service: string, idempotent: boolean, cause: Error) {
    const effect = idempotent ? '' : '; the request may have taken effect there';
    super(service, `${service} failed before its answer's body (${cause.message})${effect}`, { cause });
  }
}

/**
 * Takes the upstream's headers off a response it will not answer after all, and puts back the
 * gateway's own ones they replaced (CORS, security headers, the envelope's x-served-by): the
 * error answer then carries what the dispatch would have sent without an upstream. `stoppedAt`:
 * the upstream header whose setting failed, when the copy stopped there (those after it were
 * never set, so the gateway's own of the same name are still in place).
 */
export function restoreGatewayHeaders(res: ServerResponse, call: Pick<RelayedCall, 'upstreamHeaders' | 'overwritten' | 'gatewayServedBy'>, stoppedAt?: string): void {
  for (const name in call.upstreamHeaders) {
    if (name === stoppedAt) break;
    res.removeHeader(name);
  }
  res.removeHeader('content-length');
  const overwritten = call.overwritten;
  for (let i = 0; overwritten && i < overwritten.length; i += 2) {
    res.setHeader(overwritten[i] as string, overwritten[i + 1] as string | string[]);
  }
  if (call.gatewayServedBy === undefined) res.removeHeader('x-served-by');
  else res.setHeader('x-served-by', call.gatewayServedBy);
}
