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
import { relayBody, restoreGatewayHeaders, type RelayedCall, type RelayOptions } from './relay.js';
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
   * security headers) that the upstream call does not need, set on `res`: for an answer when the
   * response already holds headers of the gateway's (CORS), and for the gateway's own answer when
   * the upstream's fails before its first byte. Not called for a refusal before the upstream call,
   * which sets them itself (dispatch.ts).
   */
  answerHeaders?: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * The same headers as name, value pairs appended to `into`, `servedBy` as `x-served-by`: the
   * usual answer's header block is written in one `res.writeHead` with a flat list (relay.ts).
   */
  answerHeaderPairs?: (servedBy: string, into: string[]) => void;
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
  // Nothing on the response yet (no CORS headers: the usual case): the answer's whole header block
  // goes out in one writeHead, at its first byte. Header by header, node's setHeader cost ~12 K of
  // the ~270 K instructions of a proxied request (a lower-cased copy of each name, megamorphic
  // loads, a dictionary of [name, value] pairs), and deliverAnswer's own getHeader/setHeader ~4 K.
  if (res.getHeaderNames().length === 0) return deliverAsBlock(answer, exchange);
  // The gateway's own x-served-by (the envelope's), put back should the answer become the gateway's 502.
  let gatewayServedBy: ReturnType<ServerResponse['getHeader']>;
  // The gateway's own headers the upstream's overwrote (CORS, security headers...): none, mostly.
  let overwritten: unknown[] | undefined;
  let headers: Record<string, string | string[]> | undefined;
  // The upstream header being copied while the copy runs: should setting it fail, those after it were never set.
  let copying: string | undefined;
  try {
    exchange.call.answerHeaders?.(exchange.req, res);
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
    res.setHeader('x-served-by', upstreamServedBy(answer, exchange.service));
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
  relayBody(answer, res, exchange.clientGone, options, relayedCall(exchange, headers!, gatewayServedBy, overwritten, undefined));
}

/**
 * The answer with its header block as one flat list of name, value pairs, written by the relay
 * with `res.writeHead` just before the first byte: until then the response holds no header, so
 * an answer lost before its body still becomes the gateway's 502, with the gateway's headers only.
 * The upstream's own header of a name the dispatch also sends (a security header) is the one kept,
 * as when they were set one by one.
 */
function deliverAsBlock(answer: RelayedResponse, exchange: AnswerExchange): void {
  const { res, call } = exchange;
  const upstream = clientResponseHeaders(answer.headers);
  const block: Array<string | string[]> = [];
  const servedBy = upstreamServedBy(answer, exchange.service);
  if (call.answerHeaderPairs) {
    const own = block as string[];
    call.answerHeaderPairs(servedBy, own);
    let kept = 0;
    for (let i = 0; i < own.length; i += 2) {
      if (upstream[own[i]!] !== undefined) continue;
      own[kept++] = own[i]!;
      own[kept++] = own[i + 1]!;
    }
    own.length = kept;
  } else block.push('x-served-by', servedBy);
  for (const name in upstream) block.push(name, upstream[name]!);
  const length = relayedContentLength(answer.status, firstValue(answer.headers['content-length']));
  if (length !== undefined) block.push('content-length', length);
  res.statusCode = answer.status;
  relayBody(answer, res, exchange.clientGone, exchange.options, relayedCall(exchange, NO_HEADERS, undefined, undefined, block));
}

const NO_HEADERS: Record<string, never> = {};

/** The instance that really answered, as `x-served-by` tells the client. */
function upstreamServedBy(answer: RelayedResponse, service: string): string {
  return firstValue(answer.headers['x-served-by']) ?? answer.instance?.id ?? service;
}

/** What the relay needs of the request, in one shape whichever way the headers go out. */
function relayedCall(
  { req, route, call, service, upstreamPath }: AnswerExchange,
  upstreamHeaders: RelayedCall['upstreamHeaders'],
  gatewayServedBy: RelayedCall['gatewayServedBy'],
  overwritten: RelayedCall['overwritten'],
  headerBlock: RelayedCall['headerBlock'],
): RelayedCall {
  return {
    req,
    service,
    path: upstreamPath,
    requestId: call.requestId,
    idempotent: route.idempotent ?? idempotentByMethod(route.method),
    upstreamHeaders,
    gatewayServedBy,
    overwritten,
    headerBlock,
    proxied: call,
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

