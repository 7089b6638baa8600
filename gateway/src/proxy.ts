import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  RequestCancelled,
  UpstreamUnavailable,
  abortWhenClientLeaves,
  type Cancellation,
  type Logger,
  type RelayedResponse,
  type ServiceClient,
} from '@switchyard/infra';
import { hasBody, rawRequestBody } from './body.js';
import { clientResponseHeaders, upstreamRequestHeaders } from './headers.js';
import type { GatewayRoute } from './route-table.js';
import { validateBody, validateQuery } from './validation.js';

/** What the dispatch learned of a request before it reaches the proxy. */
export interface ProxiedRequest {
  /** The route's path parameters, decoded, not yet validated. */
  params: Record<string, string>;
  /** The query string as received, with its `?` (empty when none): forwarded as it is. */
  query: string;
  requestId: string;
  /** Whether it came through a proxy of ours (its forwarding headers are then kept, headers.ts). */
  fromTrustedProxy: boolean;
}

/** A route's proxy: answers `res` for `req`, or throws (or rejects) what the error handler answers. */
export type ProxyHandler = (req: IncomingMessage, res: ServerResponse, call: ProxiedRequest) => Promise<void>;

/**
 * Validates the route's parameters, query and body (400 before any upstream call), calls one
 * instance of the upstream through its ServiceClient (round robin, breaker, retry, deadline), and
 * relays the answer as it arrives: status, end-to-end headers and body bytes with back-pressure
 * (never buffered whole, so server-sent events pass event by event), with `x-served-by` naming
 * the instance that really answered. No instance, a timeout or an unreachable upstream are thrown
 * as UpstreamErrors, which the error handler turns into 503/504/502 JSON naming the service.
 * The query string and the body cross as the bytes received, whatever validation parsed.
 */
export interface ProxyOptions {
  logger?: Logger;
  /**
   * Answers an error as the dispatch does (JSON, status from the error): used when the upstream
   * fails after its headers but before the first body byte reached the client, which then gets a
   * 502 instead of a cut connection. Without it such a client's connection is cut.
   */
  respond?: (error: unknown, req: IncomingMessage, res: ServerResponse) => void;
  /**
   * A relay whose client took nothing of it for this long (its socket full, the upstream paused
   * behind it) is cut, and the upstream connection freed: a client that stops reading must not
   * hold one of the instance's pooled connections for ever (GATEWAY_RELAY_STALL_MS). None: no limit.
   */
  stallMs?: number;
}

export function proxyHandler(route: GatewayRoute, client: ServiceClient, options: ProxyOptions = {}): ProxyHandler {
  return async (req, res, call) => {
    const upstreamPath = route.resolveUpstreamPath(call.params);
    validateQuery(route, call.query);
    const clientGone = abortWhenClientLeaves(res);
    // Most requests carry no body: no async call and no await for them.
    const body = hasBody(req) ? await rawRequestBody(req, res, route.maxBodySize) : undefined;
    validateBody(route, req.headers, body);
    let answer: RelayedResponse;
    try {
      answer = await client.relay({
        method: req.method!,
        path: upstreamPath + call.query,
        headers: forwardedRequestHeaders(req, call.requestId, call.fromTrustedProxy),
        body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body,
        idempotent: route.idempotent,
        retryPolicy: route.retryPolicy,
        signal: clientGone,
        ...route.timeouts,
      });
    } catch (error) {
      if (!(error instanceof RequestCancelled)) throw error;
      // Nobody is left to answer; the upstream call was cut short and will not be retried.
      // The path alone: a query string may carry secrets, and logs must not.
      options.logger?.info({ service: client.service, path: upstreamPath, requestId: call.requestId }, 'client went away; upstream call cancelled');
      return;
    }
    // The envelope's own x-served-by (this gateway), put back should the answer become the gateway's 502.
    const gatewayServedBy = res.getHeader('x-served-by');
    let headers: Record<string, string | string[]>;
    try {
      res.statusCode = answer.status;
      headers = clientResponseHeaders(answer.headers);
      for (const name in headers) res.setHeader(name, headers[name]!);
      // infra stamped the gateway's own id as x-served-by; the client wants the upstream's.
      res.setHeader('x-served-by', firstValue(answer.headers['x-served-by']) ?? answer.instance?.id ?? client.service);
      const length = relayedContentLength(answer.status, firstValue(answer.headers['content-length']));
      if (length !== undefined) res.setHeader('content-length', length);
    } catch (error) {
      // Nothing will deliver this body now: let its attempt go (span, in-flight count, the
      // upstream connection, which a held body may keep paused) before the error is answered.
      answer.body.abort();
      throw error;
    }
    // A bodiless answer (HEAD, 204, 304) is delivered all the same: its end ends the response,
    // and the upstream attempt with it.
    // Nothing per request beyond this object: the header names are listed only if it is used.
    const unsent = options.respond && { respond: options.respond, req, upstreamHeaders: headers, gatewayServedBy };
    relayBody(answer, res, clientGone, options, { service: client.service, path: upstreamPath, requestId: call.requestId }, unsent);
  };
}

/**
 * The request headers sent upstream for `req`: its end-to-end headers plus the forwarding facts
 * (headers.ts decides which of the client's own forwarding headers survive). Shared by the
 * proxy and the upgrade relay.
 */
export function forwardedRequestHeaders(req: IncomingMessage, requestId: string, fromTrustedProxy: boolean): Record<string, string> {
  return upstreamRequestHeaders(req.headers, {
    remoteAddress: req.socket.remoteAddress,
    requestId,
    host: req.headers.host,
    fromTrustedProxy,
  });
}

/**
 * Delivers the upstream body into the client's response with back-pressure: a full socket pauses
 * the upstream connection until it drains. Should the upstream fail mid-body, the client's
 * connection is destroyed rather than ended: a clean end would pass a truncated body off as
 * complete. A client that leaves stops the upstream transfer the same way. The body comes
 * through ServiceClient.relay, chunk by chunk from undici's parser into `res.write`: no stream
 * between them, and no listener on the upstream side (a Readable and stream.pipeline's
 * bookkeeping cost more than the rest of a small answer's relay). A client that takes nothing
 * for `stallMs` is cut the same way.
 */
function relayBody(
  answer: RelayedResponse,
  res: ServerResponse,
  clientGone: Cancellation,
  { logger, stallMs }: ProxyOptions,
  what: { service: string; path: string; requestId: string },
  unsent?: UnsentAnswer,
): void {
  // Server-sent events: the client learns at once that the stream is open, before the first event.
  if (String(answer.headers['content-type'] ?? '').startsWith('text/event-stream')) res.flushHeaders();
  const body = answer.body;
  // One object per request: the sink's methods, and the response's two listeners. Its methods
  // are named by their keys (under tsx, a closure held in a named const gets a defineProperty
  // for its name on every request: esbuild's keepNames).
  const relay = {
    settled: false,
    /** Armed only while the client's socket is full (a small answer never arms it). */
    stall: undefined as NodeJS.Timeout | undefined,
    settle() {
      relay.settled = true;
      if (relay.stall) clearTimeout(relay.stall);
      res.off('drain', relay.drain).off('close', relay.clientClosed);
    },
    write(chunk: Buffer) {
      const more = res.write(chunk);
      if (!more && stallMs !== undefined && !relay.stall) relay.stall = setTimeout(relay.stalled, stallMs);
      return more;
    },
    end() {
      relay.settle();
      res.end();
    },
    fail(error: Error) {
      relay.settle();
      if (unsent && !res.headersSent && !clientGone.aborted) {
        // Nothing of the upstream's answer reached the client yet (headers go out with the first
        // byte): it gets the gateway's 502 naming the service, not a cut connection.
        answerInstead(res, unsent, new UpstreamUnavailable(what.service, `${what.service} failed before its answer's body: ${error.message}`));
        return;
      }
      // Cut, never ended: the client must not take a truncated body for a whole one.
      res.destroy();
      if (!clientGone.aborted) logger?.warn({ ...what, err: error.message }, 'upstream body failed mid-transfer; client connection cut');
    },
    drain() {
      if (relay.stall) clearTimeout(relay.stall);
      relay.stall = undefined;
      body.resume();
    },
    stalled() {
      if (relay.settled) return;
      relay.settle();
      body.abort();
      // Cut, never ended, as for a failed upstream: what the client got is not the whole answer.
      res.destroy();
      logger?.warn({ ...what, stallMs }, 'client took nothing of the answer for too long; relay cut, upstream connection freed');
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
  if (res.closed || res.destroyed) relay.clientClosed();
  else body.deliver(relay);
}

/** What the proxy needs to answer an error in place of an upstream answer it has not sent yet. */
interface UnsentAnswer {
  respond: NonNullable<ProxyOptions['respond']>;
  req: IncomingMessage;
  /** The headers the upstream's answer set on the response (with its length): none of them describes the error. */
  upstreamHeaders: Record<string, unknown>;
  gatewayServedBy: ReturnType<ServerResponse['getHeader']>;
}

function answerInstead(res: ServerResponse, unsent: UnsentAnswer, error: UpstreamUnavailable): void {
  for (const name in unsent.upstreamHeaders) res.removeHeader(name);
  res.removeHeader('content-length');
  if (unsent.gatewayServedBy !== undefined) res.setHeader('x-served-by', unsent.gatewayServedBy);
  unsent.respond(error, unsent.req, res);
}

/**
 * The Content-Length the client gets: the upstream's, whose bytes are relayed as they are (for
 * HEAD and 304 it tells the size the GET would have, RFC 9110 §8.6); none when the upstream sent
 * none (the relay is then chunked). 1xx and 204 must not carry one at all (RFC 9110 §8.6). A
 * relay that falls short of it is cut, never ended cleanly, so the length never lies.
 */
export function relayedContentLength(status: number, upstreamLength: string | undefined): string | undefined {
  if (forbidsContentLength(status)) return undefined;
  return upstreamLength;
}

function forbidsContentLength(status: number): boolean {
  return (status >= 100 && status < 200) || status === 204;
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

