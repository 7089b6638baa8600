import { RequestCancelled, type Logger, type Request, type Response, type Router, type ServiceClient } from '@switchyard/infra';
import { rawRequestBody } from './body.js';
import { clientResponseHeaders, upstreamRequestHeaders } from './headers.js';
import type { GatewayRoute } from './route-table.js';

export interface ProxyOptions {
  /** The ServiceClient of an upstream service name (one per service, shared by its routes). */
  clientFor: (service: string) => ServiceClient;
  /** This gateway's Consul id, sent as `x-gateway` beside the upstream's `x-served-by`. */
  gatewayId: () => string;
  /** Largest request body forwarded, any content type; past it the client gets 413. */
  maxBodySize?: string;
  logger?: Logger;
}

/** Mounts every route of the table on `router`, each served by the one generic proxy handler. */
export function mountRoutes(router: Router, table: readonly GatewayRoute[], options: ProxyOptions): void {
  // Every answer from behind this router, proxied or not (404, 400, 503), names the gateway.
  router.use((_req, res, next) => {
    res.setHeader('x-gateway', options.gatewayId());
    next();
  });
  for (const route of table) {
    const handler = proxyHandler(route, options.clientFor(route.service), options);
    const method = route.method.toLowerCase() as Lowercase<GatewayRoute['method']>;
    router[method](route.path, handler);
  }
}

/**
 * Validates the route's parameters, calls one instance of the upstream through its ServiceClient
 * (round robin, breaker, retry, deadline), and relays the answer: status, end-to-end headers and
 * body bytes, with `x-served-by` naming the instance that really answered. No instance, a
 * timeout or an unreachable upstream are thrown as UpstreamErrors, which the app's error handler
 * turns into 503/504/502 JSON naming the service. The request body crosses as the bytes received.
 */
export function proxyHandler(
  route: GatewayRoute,
  client: ServiceClient,
  options: Pick<ProxyOptions, 'maxBodySize' | 'logger'> = {},
) {
  return async (req: Request, res: Response): Promise<void> => {
    const path = route.resolveUpstreamPath(req.params as Record<string, string>) + queryOf(req);
    const clientGone = abortWhenClientLeaves(res);
    const body = await rawRequestBody(req, res, options.maxBodySize ?? '1mb');
    let answer;
    try {
      answer = await client.request({
        method: req.method,
        path,
        headers: upstreamRequestHeaders(req.headers, {
          remoteAddress: req.socket.remoteAddress,
          requestId: String(res.locals.requestId),
          host: req.headers.host,
        }),
        body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body,
        idempotent: route.idempotent,
        signal: clientGone,
        ...route.timeouts,
      });
    } catch (error) {
      if (!(error instanceof RequestCancelled)) throw error;
      // Nobody is left to answer; the upstream call was cut short and will not be retried.
      options.logger?.info(
        { service: client.service, path, requestId: res.locals.requestId },
        'client went away; upstream call cancelled',
      );
      return;
    }
    res.status(answer.status);
    for (const [name, value] of Object.entries(clientResponseHeaders(answer.headers))) res.setHeader(name, value);
    // infra stamped the gateway's own id as x-served-by; the client wants the upstream's.
    res.setHeader('x-served-by', firstValue(answer.headers['x-served-by']) ?? answer.instance?.id ?? client.service);
    const length = relayedContentLength(req.method, answer.status, firstValue(answer.headers['content-length']), answer.body.length);
    if (length !== undefined) res.setHeader('content-length', length);
    if (carriesBody(req.method, answer.status)) res.end(answer.body);
    else res.end();
  };
}

/** Whether an answer has a body on the wire (RFC 9112 §6.3): not for HEAD, 1xx, 204 or 304. */
export function carriesBody(method: string, status: number): boolean {
  return method !== 'HEAD' && !forbidsContentLength(status) && status !== 304;
}

/**
 * The Content-Length the client gets. With a body, the length of the bytes relayed. Without one,
 * for HEAD and 304 it still tells the size the GET would have (RFC 9110 §8.6): the upstream's
 * value, never the 0 bytes relayed here. 1xx and 204 must not carry one at all (RFC 9110 §8.6).
 */
export function relayedContentLength(
  method: string,
  status: number,
  upstreamLength: string | undefined,
  relayedBytes: number,
): string | number | undefined {
  if (forbidsContentLength(status)) return undefined;
  if (carriesBody(method, status)) return relayedBytes;
  return upstreamLength;
}

function forbidsContentLength(status: number): boolean {
  return (status >= 100 && status < 200) || status === 204;
}

/**
 * Aborts when the client's connection closes before our answer went out, so an abandoned request
 * stops waiting (and queueing) on the upstream instead of holding it until its timeout and then
 * retrying elsewhere for nobody.
 */
function abortWhenClientLeaves(res: Response): AbortSignal {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function queryOf(req: Request): string {
  const at = req.originalUrl.indexOf('?');
  return at === -1 ? '' : req.originalUrl.slice(at);
}
