/**
 * The public entry of switchyard: one declarative route table (routes.ts), one generic proxy
 * (proxy.ts), and every upstream found in Consul through infra's ServiceClient.
 */
import { runService, z, type ServiceClient } from '@switchyard/infra';
import { mountRoutes } from './proxy.js';
import { gatewayRoutes } from './routes.js';

await runService({
  name: 'gateway',
  defaultPort: 8080,
  config: {
    /** Appended to every upstream service name (tests run private copies of rng etc.); empty in production. */
    UPSTREAM_SUFFIX: z.string().regex(/^[A-Za-z0-9-]{0,40}$/, 'letters, digits and dashes only').default(''),
  },
  setup(ctx) {
    // One client per upstream, created now so discovery is warm before the first request.
    const clients = new Map<string, ServiceClient>();
    for (const service of new Set(gatewayRoutes.map((route) => route.service))) {
      clients.set(service, ctx.client(`${service}${ctx.config.UPSTREAM_SUFFIX}`));
    }
    const clientFor = (service: string) => clients.get(service)!;
    return { routes: (router) => mountRoutes(router, gatewayRoutes, { clientFor, gatewayId: ctx.serviceId }) };
  },
});
