import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestCancelled, abortWhenClientLeaves, type Cancellation, type Logger, type ServiceClient, type StreamingResponse } from '@switchyard/infra';
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
export function proxyHandler(route: GatewayRoute, client: ServiceClient, options: { logger?: Logger } = {}): ProxyHandler {
  return async (req, res, call) => {
    const upstreamPath = route.resolveUpstreamPath(call.params);
    validateQuery(route, call.query);
    const clientGone = abortWhenClientLeaves(res);
    // Most requests carry no body: no async call and no await for them.
    const body = hasBody(req) ? await rawRequestBody(req, res, route.maxBodySize) : undefined;
    validateBody(route, req.headers, body);
    let answer: StreamingResponse;
    try {
      answer = await client.stream({
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
    res.statusCode = answer.status;
    const headers = clientResponseHeaders(answer.headers);
    for (const name in headers) res.setHeader(name, headers[name]!);
    // infra stamped the gateway's own id as x-served-by; the client wants the upstream's.
    res.setHeader('x-served-by', firstValue(answer.headers['x-served-by']) ?? answer.instance?.id ?? client.service);
    const length = relayedContentLength(answer.status, firstValue(answer.headers['content-length']));
    if (length !== undefined) res.setHeader('content-length', length);
    if (!carriesBody(req.method!, answer.status)) {
      // Read off the (empty) body, so the upstream attempt ends and its connection is reused.
      answer.body.resume();
      res.end();
      return;
    }
    await relayBody(answer, res, clientGone, options.logger, { service: client.service, path: upstreamPath, requestId: call.requestId });
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
 * Relays the upstream body to the client with back-pressure (the upstream is paused while the
 * client's socket is full). Should the upstream fail mid-body, the client's connection is
 * destroyed rather than ended: a clean end would pass a truncated body off as complete. A client
 * that leaves stops the upstream transfer the same way. Hand-written rather than stream.pipeline:
 * pipeline's bookkeeping (an AbortController aborted with a DOMException and its stack at every
 * finish, ~7 listeners per side) cost more than the rest of a small answer's relay.
 */
function relayBody(
  answer: StreamingResponse,
  res: ServerResponse,
  clientGone: Cancellation,
  logger: Logger | undefined,
  what: { service: string; path: string; requestId: string },
): Promise<void> {
  // Server-sent events: the client learns at once that the stream is open, before the first event.
  if (String(answer.headers['content-type'] ?? '').startsWith('text/event-stream')) res.flushHeaders();
  const body = answer.body;
  // The listeners are the methods of one object literal: under tsx (make dev, the benches) a
  // closure held in a named const gets a defineProperty for its name on every request (esbuild's
  // keepNames, ~2 % of the gateway's profile here); a method is named by its key, at no cost.
  return new Promise<void>((resolve) => {
    let settled = false;
    const on = {
      settle() {
        settled = true;
        body.off('data', on.data).off('end', on.end).off('error', on.upstreamFailed).off('close', on.upstreamClosed);
        // Destroying the body below (client gone, upstream cut) makes undici emit an AbortError;
        // with no listener left that would be an uncaught exception and take the gateway down
        // (found by the chaos suite's hostile input). Nobody is left to tell: swallow it.
        body.on('error', ignoreError);
        res.off('drain', on.drain).off('close', on.clientClosed);
        resolve();
      },
      data(chunk: Buffer) {
        if (!res.write(chunk)) body.pause();
      },
      drain() {
        body.resume();
      },
      end() {
        on.settle();
        res.end();
      },
      upstreamFailed(error: Error) {
        if (settled) return;
        on.settle();
        // Cut, never ended: the client must not take a truncated body for a whole one.
        res.destroy();
        body.destroy();
        if (!clientGone.aborted) logger?.warn({ ...what, err: error.message }, 'upstream body failed mid-transfer; client connection cut');
      },
      // Closed before its end without an error event (e.g. destroyed because the client left).
      upstreamClosed() {
        if (!settled) on.upstreamFailed(new Error('upstream body closed before its end'));
      },
      clientClosed() {
        if (settled) return;
        // The client left mid-body: stop reading from the upstream (its attempt ends with the body).
        on.settle();
        body.destroy();
      },
    };
    // 'on' rather than 'once' (which wraps each listener in a bound function): settle() removes them all.
    body.on('data', on.data).on('end', on.end).on('error', on.upstreamFailed).on('close', on.upstreamClosed);
    res.on('drain', on.drain).on('close', on.clientClosed);
    // Either side may have closed before the relay began (its events are gone by now).
    if (res.closed || res.destroyed) on.clientClosed();
    else if (body.destroyed) on.upstreamClosed();
  });
}

/** Whether an answer has a body on the wire (RFC 9112 §6.3): not for HEAD, 1xx, 204 or 304. */
export function carriesBody(method: string, status: number): boolean {
  return method !== 'HEAD' && !forbidsContentLength(status) && status !== 304;
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

/** For a stream whose errors nobody is left to hear (see relayBody's settle). */
function ignoreError(): void {}
