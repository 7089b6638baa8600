import { runService, type ServiceClient } from '@switchyard/infra';
import { DATA_POLICY_PAIRS, corsPolicy, dataSecurityHeaders, documentSecurityHeaders } from './browser-policy.js';
import { gatewayConfigShape } from './config.js';
import { DOCS_PATHS, mountDocs } from './docs/docs-page.js';
import { openApiDocument } from './openapi.js';
import { routeDispatch } from './dispatch.js';
import { limitMiddleware, rateLimits } from './rate-limits.js';
import { RouteMatcher } from './route-matcher.js';
import type { GatewayRoute } from './route-table.js';
import { clientAddresses, trustedProxies, type TrustedProxies } from './trusted-proxies.js';
import { upgradeRelay } from './upgrade.js';
import { VerifiedTokens } from './verified-tokens.js';

/**
 * Runs a gateway process serving `routes`: one ServiceClient per upstream service (infra appends
 * SERVICE_NAME_SUFFIX to each name, so a test's private stack calls its own instances), and in
 * front of the generic proxy the edge's checks, in this order: CORS, the per-client rate limit,
 * then per route the token check, the per-user limit and validation; the security headers go on
 * every answer (dispatch.ts sets them while the upstream works, or with a refusal).
 * main.ts passes the product table; tests may pass a longer one.
 */
export function startGateway(routes: readonly GatewayRoute[]): Promise<void> {
  // Known once runService has parsed TRUSTED_PROXIES, which is before setup and so before any request.
  let fromTrustedProxy: TrustedProxies = () => false;
  return runService({
    name: 'gateway',
    config: gatewayConfigShape,
    // The public edge continues a caller's trace (and baggage) only from a proxy of ours.
    trustTraceContext: (req) => fromTrustedProxy(req),
    defaultPort: 8080,
    // /health and /metrics stay off the public port: loopback:8081 unless ADMIN_HOST/ADMIN_PORT say otherwise.
    adminPort: 8081,
    // A proxy forwards the bytes it received: parsing JSON would re-serialise it (and lose a big
    // integer's digits), so bodies stay raw here and proxy.ts reads them as bytes.
    parseJson: false,
    setup(ctx) {
      const { config } = ctx;
      fromTrustedProxy = trustedProxies(config.TRUSTED_PROXIES);
      // One client per upstream, created now (infra allows it only in setup) so discovery is warm
      // before the first request; the token verifier (auth's JWKS, cached) is created now too.
      const clients = new Map<string, ServiceClient>();
      for (const service of new Set(routes.map((route) => route.service))) clients.set(service, ctx.client(service));
      const clientFor = (service: string) => clients.get(service)!;
      // infra's verifier (auth's JWKS, cached), with recent verdicts remembered (verified-tokens.ts).
      const verifier = new VerifiedTokens(ctx.tokenVerifier());
      const limits = rateLimits({
        redisUrl: config.REDIS_URL,
        keyPrefix: `gateway${config.SERVICE_NAME_SUFFIX}`,
        perClientPerMinute: config.RATE_LIMIT_PER_MINUTE,
        perUserPerMinute: config.RATE_LIMIT_USER_PER_MINUTE,
        clientAddress: clientAddresses(config.TRUSTED_PROXIES),
        logger: ctx.logger,
      });
      // Built once: every request shares these checks and the serialised document.
      const perClient = config.RATE_LIMIT_PER_MINUTE > 0 ? limitMiddleware((req) => limits.admitClient(req)) : undefined;
      const cors = corsPolicy(config.CORS_ORIGINS);
      const dataPolicy = dataSecurityHeaders();
      const documentPolicy = documentSecurityHeaders();
      const document = openApiDocument(routes, { title: 'switchyard API', version: config.SERVICE_VERSION });
      const admitUser = (id: string) => limits.admitUser(id);
      const tunnels = upgradeRelay(routes, {
        clientFor,
        gatewayId: ctx.serviceId,
        logger: ctx.logger,
        tunnelIdleMs: config.GATEWAY_TUNNEL_IDLE_MS,
        fromTrustedProxy,
        guards: { admitClient: (req) => limits.admitClient(req), verifier, admitUser },
      });
      const matcher = new RouteMatcher(routes);
      return {
        // The route table's requests, answered without express (dispatch.ts).
        dispatch: routeDispatch(routes, clientFor, {
          gatewayId: ctx.serviceId,
          fromTrustedProxy,
          securityHeaders: dataPolicy,
          securityHeaderPairs: DATA_POLICY_PAIRS,
          cors,
          admitClient: (req) => limits.admitClient(req),
          tokens: verifier,
          admitUser,
          logger: ctx.logger,
          relayStallMs: config.GATEWAY_RELAY_STALL_MS || undefined,
        }),
        // Everything else (the docs, preflights, unknown paths), with the same edge checks as middleware.
        routes(router) {
          // Every answer from behind this router, refused or not (404, 429...), names the gateway.
          router.use((_req, res, next) => {
            res.setHeader('x-gateway', ctx.serviceId());
            next();
          });
          router.use(dataPolicy);
          // The docs page and its files are a document: helmet's set over the data policy.
          router.use(DOCS_PATHS.page, documentPolicy);
          // Before the limit: a browser's preflight is answered whatever the allowance says.
          if (cors) router.use(cors);
          if (perClient) router.use(perClient);
          mountDocs(router, document);
          // OPTIONS on a route's path without CORS: which methods it takes, as express would say.
          router.options(/.*/, (req, res, next) => {
            const methods = matcher.methodsAt(req.path);
            if (methods.length === 0) return next();
            res.setHeader('allow', methods.join(', '));
            res.status(204).end();
          });
        },
        upgrade: tunnels,
        // Upgraded connections are not requests: the drain does not wait for them, and they would
        // hold the process until the hard timeout. Clients reconnect through another gateway.
        onShutdown: async () => {
          tunnels.closeAll();
          await limits.close();
        },
      };
    },
  });
}
