import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  RequestCancelled,
  abortWhenClientLeaves,
  idempotentByMethod,
  type Cancellation,
  type Logger,
  type RelayedResponse,
  type ServiceClient,
} from '@switchyard/infra';
import { hasBody, rawRequestBody } from './body.js';
import { clientResponseHeaders, upstreamRequestHeaders } from './headers.js';
import { relayBody, restoreGatewayHeaders, type RelayOptions } from './relay.js';
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
  /**
   * Headers the dispatch adds to every answer it gives (the identity headers, `x-gateway`, the
   * security headers) that the upstream call does not need. They are set while the upstream works: in a callback queued
   * once the upstream request is dispatched. undici writes a request on an idle keep-alive
   * connection only in the event loop's check phase (it first lets the connection show whether
   * its server closed it), so whatever runs after the dispatch in the same turn delays the write;
   * a callback queued then runs after that write, before any answer can be read. Should the
   * answer (or a fallback's) come first, they are set as it is delivered. Set once; a refusal
   * before the upstream call sets them itself (dispatch.ts).
   */
  answerHeaders?: (req: IncomingMessage, res: ServerResponse) => void;
  /** Set once answerHeaders ran. */
  answerHeadersSet?: boolean;
}

/** A route's proxy: answers `res` for `req`, or throws (or rejects) what the error handler answers. */
export type ProxyHandler = (req: IncomingMessage, res: ServerResponse, call: ProxiedRequest) => Promise<void>;

/** How a gateway's proxies answer what goes wrong mid-relay (relay.ts). */
export type ProxyOptions = RelayOptions;

/**
 * Validates the route's parameters, query and body (400 before any upstream call), calls one
 * instance of the upstream through its ServiceClient (round robin, breaker, retry, deadline), and
 * relays the answer as it arrives: status, end-to-end headers and body bytes with back-pressure
 * (never buffered whole, so server-sent events pass event by event), with `x-served-by` naming
 * the instance that really answered. No instance, a timeout or an unreachable upstream are thrown
 * as UpstreamErrors, which the error handler turns into 503/504/502 JSON naming the service.
 * The query string and the body cross as the bytes received, whatever validation parsed.
 */
export function proxyHandler(route: GatewayRoute, client: ServiceClient, options: ProxyOptions = {}): ProxyHandler {
  return async (req, res, call) => {
    const upstreamPath = route.resolveUpstreamPath(call.params);
    validateQuery(route, call.query);
    const clientGone = abortWhenClientLeaves(res);
    // Most requests carry no body: no async call and no await for them.
    const body = hasBody(req) ? await rawRequestBody(req, res, route.maxBodySize) : undefined;
    validateBody(route, req.headers, body);
    const exchange: AnswerExchange = { req, res, route, service: client.service, upstreamPath, call, clientGone, options, delivered: false };
    let answer: RelayedResponse;
    try {
      const relayed = client.relay(
        {
          method: req.method!,
          path: upstreamPath + call.query,
          headers: forwardedRequestHeaders(req, call.requestId, call.fromTrustedProxy),
          body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body,
          idempotent: route.idempotent,
          retryPolicy: route.retryPolicy,
          signal: clientGone,
          ...route.timeouts,
        },
        // The answer is relayed from inside the attempt, as soon as it is accepted: the client
        // gets it before the breaker's and the retry loop's promises settle (service-client.ts).
        (accepted) => deliverAnswer(accepted, exchange),
      );
      if (call.answerHeaders) setImmediate(whileUpstreamWorks, exchange);
      answer = await relayed;
    } catch (error) {
      if (!(error instanceof RequestCancelled)) throw error;
      // Nobody is left to answer; the upstream call was cut short and will not be retried.
      // The path alone: a query string may carry secrets, and logs must not.
      options.logger?.info({ service: client.service, path: upstreamPath, requestId: call.requestId }, 'client went away; upstream call cancelled');
      return;
    }
    // A fallback's answer comes only here.
    if (!exchange.delivered) deliverAnswer(answer, exchange);
  };
}

/** One proxied request, as its answer's delivery needs it. */
interface AnswerExchange {
  req: IncomingMessage;
  res: ServerResponse;
  route: GatewayRoute;
  service: string;
  upstreamPath: string;
  call: ProxiedRequest;
  clientGone: Cancellation;
  options: ProxyOptions;
  /** Set once deliverAnswer ran for this request (it runs once). */
  delivered: boolean;
}

/**
 * Answers the client with the upstream's answer: its status, end-to-end headers and
 * `x-served-by`, then its body through the relay. Throws, with the upstream body let go and the
 * upstream's headers set so far taken off again, when a header cannot be set; the error handler
 * then answers with the gateway's own headers only.
 */
function deliverAnswer(answer: RelayedResponse, exchange: AnswerExchange): void {
  exchange.delivered = true;
  const { res, options } = exchange;
  // The gateway's own x-served-by (the envelope's), put back should the answer become the gateway's 502.
  let gatewayServedBy: ReturnType<ServerResponse['getHeader']>;
  // The gateway's own headers the upstream's overwrote (CORS, security headers...): none, mostly.
  let overwritten: unknown[] | undefined;
  let headers: Record<string, string | string[]> | undefined;
  // The upstream header being copied while the copy runs: should setting it fail, those after it were never set.
  let copying: string | undefined;
  try {
    answerHeadersOnce(exchange);
    gatewayServedBy = res.getHeader('x-served-by');
    res.statusCode = answer.status;
    headers = clientResponseHeaders(answer.headers);
    for (const name in headers) {
      copying = name;
      if (options.respond) {
        const own = res.getHeader(name);
        if (own !== undefined) (overwritten ??= []).push(name, own);
      }
      res.setHeader(name, headers[name]!);
    }
    copying = undefined;
    // infra stamped the gateway's own id as x-served-by; the client wants the upstream's.
    res.setHeader('x-served-by', firstValue(answer.headers['x-served-by']) ?? answer.instance?.id ?? exchange.service);
    const length = relayedContentLength(answer.status, firstValue(answer.headers['content-length']));
    if (length !== undefined) res.setHeader('content-length', length);
  } catch (error) {
    // Nothing will deliver this body now: let its attempt go (span, in-flight count, the
    // upstream connection, which a held body may keep paused) before the error is answered.
    answer.body.abort();
    if (headers) restoreGatewayHeaders(res, { upstreamHeaders: headers, overwritten, gatewayServedBy }, copying);
    throw error;
  }
  // A bodiless answer (HEAD, 204, 304) is delivered all the same: its end ends the response,
  // and the upstream attempt with it.
  const { req, route, call } = exchange;
  relayBody(answer, res, exchange.clientGone, options, {
    req,
    service: exchange.service,
    path: exchange.upstreamPath,
    requestId: call.requestId,
    idempotent: route.idempotent ?? idempotentByMethod(route.method),
    upstreamHeaders: headers!,
    gatewayServedBy,
    overwritten,
  });
}

/** The dispatch's answer headers (ProxiedRequest.answerHeaders), the first time it is asked. */
function answerHeadersOnce({ req, res, call }: AnswerExchange): void {
  if (call.answerHeadersSet || !call.answerHeaders) return;
  call.answerHeaders(req, res);
  call.answerHeadersSet = true;
}

/**
 * Queued once the upstream request is dispatched (ProxiedRequest.answerHeaders). Should setting
 * them throw, the answer's delivery tries again and the error handler answers what it throws.
 */
function whileUpstreamWorks(exchange: AnswerExchange): void {
  if (exchange.delivered || exchange.res.headersSent) return;
  try {
    answerHeadersOnce(exchange);
  } catch {
    // Left to deliverAnswer, which answers the error.
  }
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

