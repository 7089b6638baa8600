import { runService, type ServiceClient } from '@switchyard/infra';
import { mountRoutes } from './proxy.js';
import { upgradeRelay } from './upgrade.js';
import type { GatewayRoute } from './route-table.js';
import { trustedProxies, trustedProxiesSetting, type TrustedProxies } from './trusted-proxies.js';

/**
 * Runs a gateway process serving `routes`: one ServiceClient per upstream service (infra appends
 * SERVICE_NAME_SUFFIX to each name, so a test's private stack calls its own instances), and the
 * generic proxy on every route. main.ts passes the product table; tests may pass a longer one.
 */
export function startGateway(routes: readonly GatewayRoute[]): Promise<void> {
  // Known once runService has parsed TRUSTED_PROXIES, which is before setup and so before any request.
  let fromTrustedProxy: TrustedProxies = () => false;
  return runService({
    name: 'gateway',
    config: { TRUSTED_PROXIES: trustedProxiesSetting },
    // The public edge continues a caller's trace (and baggage) only from a proxy of ours.
    trustTraceContext: (req) => fromTrustedProxy(req),
    defaultPort: 8080,
    // /health and /metrics stay off the public port: loopback:8081 unless ADMIN_HOST/ADMIN_PORT say otherwise.
    adminPort: 8081,
    // A proxy forwards the bytes it received: parsing JSON would re-serialise it (and lose a big
    // integer's digits), so bodies stay raw here and proxy.ts reads them as bytes.
    parseJson: false,
    setup(ctx) {
      fromTrustedProxy = trustedProxies(ctx.config.TRUSTED_PROXIES);
      // One client per upstream, created now (infra allows it only in setup) so discovery is warm
      // before the first request.
      const clients = new Map<string, ServiceClient>();
      for (const service of new Set(routes.map((route) => route.service))) clients.set(service, ctx.client(service));
      const clientFor = (service: string) => clients.get(service)!;
      const tunnels = upgradeRelay(routes, { clientFor, gatewayId: ctx.serviceId, logger: ctx.logger, fromTrustedProxy });
      return {
        routes(router) {
          // The proxy reads this verdict to keep or replace the forwarding headers (headers.ts).
          router.use((req, res, next) => {
            res.locals.fromTrustedProxy = fromTrustedProxy(req);
            next();
          });
          mountRoutes(router, routes, { clientFor, gatewayId: ctx.serviceId, logger: ctx.logger });
        },
        upgrade: tunnels,
        // Upgraded connections are not requests: the drain does not wait for them, and they would
        // hold the process until the hard timeout. Clients reconnect through another gateway.
        onShutdown: () => tunnels.closeAll(),
      };
    },
  });
}
