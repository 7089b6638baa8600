import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { context } from '@opentelemetry/api';
import express, { type Express, type Request, type Router } from 'express';
import type { Logger } from 'pino';
import { metricsRegistry } from '../metrics.js';
import { errorHandler, notFoundHandler } from './error-handler.js';
import { mountHealthRoutes, type HealthState, type Probe } from './health.js';
import { requestEnvelope, requestRecordOf, type RequestRecord, type TrustTraceContext } from './request-envelope.js';
import { upstreamsView } from './upstreams-view.js';

interface PlatformRouteOptions {
  logger: Logger;
  serviceId: () => string;
  probes: Record<string, Probe>;
  state: HealthState;
}

export interface AppOptions extends PlatformRouteOptions {
  /** The service's own routes. */
  routes: (router: Router) => void;
  /** false: /health and /metrics are served by the admin app instead (see createAdminApp). */
  platformRoutes?: boolean;
  jsonLimit?: string;
  parseJson?: boolean;
}

/**
 * Takes a request ahead of express; false leaves it to the express app (see ServiceParts.dispatch).
 * A dispatch that takes a request sets its identity headers (`record.identify(res)`) before it answers.
 */
export type Dispatch = (req: IncomingMessage, res: ServerResponse, record: RequestRecord) => boolean;

export interface ListenerOptions extends Pick<PlatformRouteOptions, 'logger' | 'serviceId' | 'state'> {
  accessLog?: boolean;
  /** See ServiceSpec.trustTraceContext; undefined trusts every caller (internal services). */
  trustTraceContext?: TrustTraceContext;
  dispatch?: Dispatch;
}

/**
 * A listener's request handler: the platform's envelope (request-envelope.ts: identity headers,
 * server span, access log, metrics) around the service's dispatch when it has one, then its
 * express app for whatever the dispatch did not take. The request runs in its span's context, so
 * outgoing calls become its children.
 */
export function requestListener(app: Express, options: ListenerOptions): RequestListener {
  const envelope = requestEnvelope({ ...options, routeOf: expressRoute });
  const { dispatch } = options;
  const serve = (req: IncomingMessage, res: ServerResponse, record: RequestRecord) => {
    if (dispatch?.(req, res, record)) return;
    record.identify(res);
    app(req, res);
  };
  return (req, res) => {
    const record = envelope(req, res);
    context.with(record.context, serve, undefined, req, res, record);
  };
}

/**
 * The express app every service runs behind the envelope: the request id in res.locals, health
 * and metrics routes (unless an admin listener serves them), the service's routes, then JSON 404
 * and JSON errors.
 */
export function createApp(options: AppOptions): Express {
  const app = bareApp();
  if (options.platformRoutes !== false) app.use(upstreamsRouter(options));
  if (options.platformRoutes !== false) app.use(platformRouter(options));
  if (options.parseJson !== false) app.use(express.json({ limit: options.jsonLimit ?? '100kb' }));
  const routes = express.Router();
  options.routes(routes);
  app.use(routes);
  app.use(notFoundHandler);
  app.use(errorHandler(options.logger));
  return app;
}

/**
 * The admin listener's app: only /health/* and /metrics, for Consul's check and Prometheus, kept
 * off the public port of a service that faces the internet (its probes and metrics describe
 * internals no client should read).
 */
export function createAdminApp(options: PlatformRouteOptions): Express {
  const app = bareApp();
  app.use(upstreamsRouter(options));
  app.use(platformRouter(options));
  app.use(notFoundHandler);
  app.use(errorHandler(options.logger));
  return app;
}

function bareApp(): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Handlers read the request id as res.locals.requestId (the envelope made it).
  app.use((_req, res, next) => {
    res.locals.requestId = requestRecordOf(res)?.requestId;
    next();
  });
  return app;
}

/** The express route that answered (`/users/:id`, with its router's mount path). */
function expressRoute(req: IncomingMessage): string | undefined {
  const { route, baseUrl } = req as Partial<Request>;
  const path = (route as { path?: string } | undefined)?.path;
  return path === undefined ? undefined : `${baseUrl ?? ''}${path}`;
}

/**
 * `GET /metrics/upstreams` (server/upstreams-view.ts), beside /metrics. The envelope leaves it
 * untracked: the balancing page polls every instance once a second, and a span and a log line per
 * poll would bury the real traffic.
 */
function upstreamsRouter(options: Pick<PlatformRouteOptions, 'serviceId'>): Router {
  const router = express.Router();
  router.get('/metrics/upstreams', async (_req, res) => {
    res.setHeader('cache-control', 'no-store');
    res.json(await upstreamsView(options.serviceId()));
  });
  return router;
}

function platformRouter(options: PlatformRouteOptions): Router {
  const platform = express.Router();
  mountHealthRoutes(platform, options.probes, options.state, options.serviceId);
  platform.get('/metrics', async (_req, res) => {
    res.setHeader('content-type', metricsRegistry.contentType);
    res.send(await metricsRegistry.metrics());
  });
  return platform;
}
