import type { IncomingMessage } from 'node:http';
import express, { type Express, type Router } from 'express';
import type { Logger } from 'pino';
import { metricsRegistry } from '../metrics.js';
import { errorHandler, notFoundHandler } from './error-handler.js';
import { mountHealthRoutes, type HealthState, type Probe } from './health.js';
import { accessLog, identityHeaders, serverSpans } from './middleware.js';
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
  accessLog?: boolean;
  /** See ServiceSpec.trustTraceContext; undefined trusts every caller (internal services). */
  trustTraceContext?: (req: IncomingMessage) => boolean;
}

/**
 * The express app every service runs: identity headers, tracing, access log and metrics, health
 * and metrics routes (unless an admin listener serves them), the service's routes, then JSON 404
 * and JSON errors.
 */
export function createApp(options: AppOptions): Express {
  const app = bareApp();
  app.use(identityHeaders(options.serviceId, options.state));
  if (options.platformRoutes !== false) app.use(upstreamsRouter(options));
  app.use(serverSpans(options.trustTraceContext));
  app.use(accessLog(options.logger, options.accessLog ?? true));
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
  app.use(identityHeaders(options.serviceId, options.state));
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
  return app;
}

/**
 * `GET /metrics/upstreams` (server/upstreams-view.ts), beside /metrics. Mounted ahead of the
 * tracing and access-log middleware: the balancing page polls every instance once a second, and
 * a span and a log line per poll would bury the real traffic.
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
