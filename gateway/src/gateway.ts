import { runService, type ServiceClient } from '@switchyard/infra';
import { mountRoutes } from './proxy.js';
import type { GatewayRoute } from './route-table.js';

/**
 * Runs a gateway process serving `routes`: one ServiceClient per upstream service (infra appends
 * SERVICE_NAME_SUFFIX to each name, so a test's private stack calls its own instances), and the
 * generic proxy on every route. main.ts passes the product table; tests may pass a longer one.
 */
export function startGateway(routes: readonly GatewayRoute[]): Promise<void> {
  return runService({
    name: 'gateway',
    defaultPort: 8080,
    // A proxy forwards the bytes it received: parsing JSON would re-serialise it (and lose a big
    // integer's digits), so bodies stay raw here and proxy.ts reads them as bytes.
    parseJson: false,
    setup(ctx) {
      // One client per upstream, created now (infra allows it only in setup) so discovery is warm
      // before the first request.
      const clients = new Map<string, ServiceClient>();
      for (const service of new Set(routes.map((route) => route.service))) clients.set(service, ctx.client(service));
      const clientFor = (service: string) => clients.get(service)!;
      return { routes: (router) => mountRoutes(router, routes, { clientFor, gatewayId: ctx.serviceId, logger: ctx.logger }) };
    },
  });
}
