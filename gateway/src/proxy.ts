import { express, type Request, type Response, type Router, type ServiceClient } from '@switchyard/infra';
import { clientResponseHeaders, upstreamRequestHeaders } from './headers.js';
import type { GatewayRoute } from './route-table.js';

export interface ProxyOptions {
  /** The ServiceClient of an upstream service name (one per service, shared by its routes). */
  clientFor: (service: string) => ServiceClient;
  /** This gateway's Consul id, sent as `x-gateway` beside the upstream's `x-served-by`. */
  gatewayId: () => string;
  /** Largest non-JSON request body forwarded (JSON bodies obey the app-wide JSON limit). */
  maxBodySize?: string;
}

/** Mounts every route of the table on `router`, each served by the one generic proxy handler. */
export function mountRoutes(router: Router, table: readonly GatewayRoute[], options: ProxyOptions): void {
  // The app already parsed JSON bodies; this keeps any other body as raw bytes to forward.
  const rawBody = express.raw({ type: () => true, limit: options.maxBodySize ?? '1mb' });
  // Every answer from behind this router, proxied or not (404, 400, 503), names the gateway.
  router.use((_req, res, next) => {
    res.setHeader('x-gateway', options.gatewayId());
    next();
  });
  for (const route of table) {
    const handler = proxyHandler(route, options.clientFor(route.service));
    const method = route.method.toLowerCase() as Lowercase<GatewayRoute['method']>;
    router[method](route.path, rawBody, handler);
  }
}

/**
 * Validates the route's parameters, calls one instance of the upstream through its ServiceClient
 * (round robin, breaker, retry, deadline), and relays the answer: status, end-to-end headers and
 * body bytes, with `x-served-by` naming the instance that really answered. No instance, a
 * timeout or an unreachable upstream are thrown as UpstreamErrors, which the app's error handler
 * turns into 503/504/502 JSON naming the service.
 */
export function proxyHandler(route: GatewayRoute, client: ServiceClient) {
  return async (req: Request, res: Response): Promise<void> => {
    const path = route.resolveUpstreamPath(req.params as Record<string, string>) + queryOf(req);
    const answer = await client.request({
      method: req.method,
      path,
      headers: upstreamRequestHeaders(req.headers, {
        remoteAddress: req.socket.remoteAddress,
        requestId: String(res.locals.requestId),
        host: req.headers.host,
      }),
      body: forwardedBody(req),
      idempotent: route.idempotent,
      ...route.timeouts,
    });
    res.status(answer.status);
    for (const [name, value] of Object.entries(clientResponseHeaders(answer.headers))) res.setHeader(name, value);
    // infra stamped the gateway's own id as x-served-by; the client wants the upstream's.
    res.setHeader('x-served-by', answer.headers['x-served-by'] ?? answer.instance?.id ?? client.service);
    res.setHeader('content-length', answer.body.length);
    res.end(answer.body);
  };
}

function queryOf(req: Request): string {
  const at = req.originalUrl.indexOf('?');
  return at === -1 ? '' : req.originalUrl.slice(at);
}

/** The request body as bytes: raw when it was kept raw, re-encoded when the app parsed JSON. */
function forwardedBody(req: Request): Buffer | undefined {
  if (req.method === 'GET' || req.method === 'HEAD') return undefined;
  const body: unknown = req.body;
  if (body === undefined) return undefined;
  if (Buffer.isBuffer(body)) return body.length > 0 ? body : undefined;
  return Buffer.from(JSON.stringify(body));
}
