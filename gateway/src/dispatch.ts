/**
 * The gateway's hot path: every request for a route of the table is answered here, straight from
 * the listener (infra's ServiceParts.dispatch), without entering express. Profiles put express's
 * per-request layers (prototype swaps, a router walk over every middleware, a closure and a
 * promise per hop) among the costs of a hop; here a request pays for what the edge decides and no
 * more. What it does, in order (the same as the express chain it replaced, and the same checks
 * the upgrade relay makes): `x-gateway` and the security headers; CORS for a configured origin;
 * the per-client limit; for 'user' routes the token check, then the per-user limit; then the
 * route's proxy (validation, upstream call, relay). Requests for no route (the docs, a preflight,
 * 404s) go on to express, where the same edge checks run as middleware. The dispatch's own answer
 * headers (`x-served-by` and `x-request-id` from the request's record, `x-gateway`, the security
 * headers) go into the upstream answer's header block as it is written
 * (ProxiedRequest.answerHeaderPairs), not set before the upstream call: at 1 connection they were
 * ~3 µs of the path before the upstream write. A refusal sets them when it answers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerChallenge, bearerToken, respondWithError, type Dispatch, type Logger, type RequestRecord, type ServiceClient } from '@switchyard/infra';
import { proxyHandler, type ProxiedRequest, type ProxyHandler } from './proxy.js';
import { RateLimited, type Admission } from './rate-limits.js';
import { RouteMatcher } from './route-matcher.js';
import type { GatewayRoute } from './route-table.js';
import type { VerifiedTokens } from './verified-tokens.js';

/** The edge's checks, built once at startup and shared by every request. */
export interface EdgeChecks {
  /** This gateway's Consul id, sent as `x-gateway` beside the upstream's `x-served-by`. */
  gatewayId: () => string;
  fromTrustedProxy: (req: IncomingMessage) => boolean;
  /** Sets the security headers (browser-policy.ts). */
  securityHeaders: (req: IncomingMessage, res: ServerResponse, next: () => void) => void;
  /** The same security headers as name, value pairs, for an answer's header block written at once. */
  securityHeaderPairs: readonly string[];
  /** CORS for the configured origins (synchronous: its origin rule is a set lookup); none when unset. */
  cors?: (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;
  admitClient: (req: IncomingMessage) => Admission;
  /** The token check of 'user' routes (remembered verdicts); a table with 'user' routes needs one. */
  tokens?: VerifiedTokens;
  admitUser: (userId: string) => Admission;
  logger: Logger;
  /** A relayed answer its client takes nothing of for this long is cut (GATEWAY_RELAY_STALL_MS). */
  relayStallMs?: number;
}

interface DispatchedRoute {
  route: GatewayRoute;
  proxy: ProxyHandler;
}

/** The dispatch for `table`: one ServiceClient per upstream service (clientFor), one proxy per route. */
export function routeDispatch(table: readonly GatewayRoute[], clientFor: (service: string) => ServiceClient, edge: EdgeChecks): Dispatch {
  const needsUser = table.find((route) => route.auth === 'user');
  if (needsUser && !edge.tokens) throw new Error(`${needsUser.method} ${needsUser.path} needs a user, and no token check was given`);
  const matcher = new RouteMatcher(table);
  const respond = respondWithError(edge.logger);
  const proxies = new Map<GatewayRoute, DispatchedRoute>(
    table.map((route) => [route, { route, proxy: proxyHandler(route, clientFor(route.service), { logger: edge.logger, respond, stallMs: edge.relayStallMs }) }]),
  );

  return (req, res, record) => {
    const target = req.url ?? '/';
    const at = target.indexOf('?');
    const path = at === -1 ? target : target.slice(0, at);
    let found;
    try {
      found = matcher.find(req.method ?? 'GET', path);
    } catch (error) {
      // A malformed parameter: the path cannot name a route, and the answer says so (400).
      edgeHeaders(req, res, edge, record);
      respond(error, req, res);
      return true;
    }
    if (!found) return false;
    record.route = found.route.path;
    const call = new DispatchedCall(found.params, at === -1 ? '' : target.slice(at), record, edge);
    void serve(req, res, proxies.get(found.route)!, call, edge, respond);
    return true;
  };
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  { route, proxy }: DispatchedRoute,
  call: DispatchedCall,
  edge: EdgeChecks,
  respond: ReturnType<typeof respondWithError>,
): Promise<void> {
  try {
    call.fromTrustedProxy = edge.fromTrustedProxy(req);
    if (edge.cors) await corsHeaders(edge.cors, req, res);
    // Decided from a lease in hand most of the time: no await, no trip through the microtask queue.
    const admitted = edge.admitClient(req);
    if (admitted) await admitted;
    if (route.auth === 'user') {
      const header = req.headers.authorization;
      const user = edge.tokens!.recallHeader(header) ?? (await edge.tokens!.verify(bearerToken(header)));
      const userAdmitted = edge.admitUser(user.id);
      if (userAdmitted) await userAdmitted;
    }
    await proxy(req, res, call);
  } catch (error) {
    // Answered here rather than by a .catch() on the call: no closure per request. A refusal
    // before the upstream call (a token, a limit, validation) has no edge headers yet.
    if (!res.headersSent && !res.hasHeader('x-gateway')) edgeHeaders(req, res, edge, call.record);
    refusalHeaders(res, error);
    respond(error, req, res);
  }
}

/**
 * One request the dispatch took, as its route's proxy sees it; the dispatch's answer headers are
 * its method (no closure per request).
 */
class DispatchedCall implements ProxiedRequest {
  readonly requestId: string;
  fromTrustedProxy = false;

  constructor(
    readonly params: Record<string, string>,
    readonly query: string,
    readonly record: RequestRecord,
    private readonly edge: EdgeChecks,
  ) {
    this.requestId = record.requestId;
  }

  answerHeaders(req: IncomingMessage, res: ServerResponse): void {
    edgeHeaders(req, res, this.edge, this.record);
  }

  answerHeaderPairs(servedBy: string, into: string[]): void {
    this.record.identityHeaderPairs(into, servedBy);
    into.push('x-gateway', this.edge.gatewayId());
    const security = this.edge.securityHeaderPairs;
    for (let i = 0; i < security.length; i++) into.push(security[i]!);
  }
}

/** The identity headers (`x-served-by`, `x-request-id`), `x-gateway` and the security headers, on every answer the dispatch gives. */
function edgeHeaders(req: IncomingMessage, res: ServerResponse, edge: EdgeChecks, record: RequestRecord): void {
  record.identify(res);
  res.setHeader('x-gateway', edge.gatewayId());
  edge.securityHeaders(req, res, noop);
}

function corsHeaders(cors: NonNullable<EdgeChecks['cors']>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => cors(req, res, (error) => (error ? reject(error) : resolve())));
}

/** What a refusal tells beside its JSON: when to retry (429), which challenge a token failed (401). */
function refusalHeaders(res: ServerResponse, error: unknown): void {
  if (res.headersSent) return;
  if (error instanceof RateLimited) res.setHeader('retry-after', String(error.retryAfterSeconds));
  const challenge = bearerChallenge(error);
  if (challenge) res.setHeader('WWW-Authenticate', challenge);
}

function noop(): void {}
