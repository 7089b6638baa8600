/**
 * HTTP upgrades (WebSocket) through the gateway: an upgrade request on a GET route of the table
 * goes to an instance chosen as for any call (balancer, breakers, retries before an answer), the
 * instance's 101 is relayed verbatim, then bytes cross both ways until either side closes.
 *
 * A relayed connection must not outlive its peers: TCP keepalive on both hops, and an idle
 * timeout that cuts a tunnel where no byte moved either way (the services ping every 15 s, so a
 * live socket is never idle that long), so a peer that vanished without a FIN is dropped on both
 * hops instead of holding a tunnel forever. The request target's query (where browsers put the
 * access token) is forwarded as received and never logged.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import type { Duplex, Readable } from 'node:stream';
import { Counter, Gauge, RequestCancelled, metricsRegistry, toErrorResponse, type Logger, type ServiceClient, type UpgradeResponse } from '@switchyard/infra';
import { authenticate, challengeFor, type AccessTokenVerifier } from './access-token.js';
import { clientResponseHeaders } from './headers.js';
import { forwardedRequestHeaders } from './proxy.js';
import { RateLimited } from './rate-limits.js';
import { RouteMatcher } from './route-matcher.js';
import type { GatewayRoute } from './route-table.js';

// Not an ES import of node:http: that reads the module's lazy WebSocket/MessageEvent getters,
// which load Node's own bundled undici (infra/src/server/http-server.ts says more).
const { STATUS_CODES } = process.getBuiltinModule('node:http');

export interface UpgradeOptions {
  /** The ServiceClient of an upstream service name (one per service, shared with the HTTP routes). */
  clientFor: (service: string) => ServiceClient;
  /** This gateway's Consul id, sent as `x-gateway`. */
  gatewayId: () => string;
  logger?: Logger;
  /** Whether the request comes through a proxy of ours (its forwarding headers are then kept). */
  fromTrustedProxy?: (req: IncomingMessage) => boolean;
  /**
   * The same checks as the HTTP routes get, run before any upstream call: the per-client limit on
   * every upgrade request, and on routes with auth 'user' the token check, then the per-user
   * limit. A table with a 'user' GET route and no token check is refused when the relay is built.
   */
  guards?: UpgradeGuards;
  /** A tunnel where no byte moved either way for this long is cut (GATEWAY_TUNNEL_IDLE_MS; default 60 s). */
  tunnelIdleMs?: number;
}

export interface UpgradeGuards {
  admitClient?: (req: IncomingMessage) => Promise<void> | undefined;
  verifier?: AccessTokenVerifier;
  admitUser?: (userId: string) => Promise<void> | undefined;
}

/** The handler for ServiceParts.upgrade, plus what shutdown needs: upgraded connections outlive server.close(). */
export interface UpgradeRelay {
  (req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Tunnels open now. */
  readonly openTunnels: number;
  /** Cuts every open tunnel. */
  closeAll(): void;
}

/** After one side of a tunnel closed, how long the other may take to finish its half. */
const CLOSE_GRACE_MS = 5_000;
/** Four missed heartbeats of the services' 15 s period. */
export const DEFAULT_TUNNEL_IDLE_MS = 60_000;
/** First keepalive probe after this much silence; the kernel's probes then find a dead peer. */
const KEEPALIVE_DELAY_MS = 15_000;

const openTunnelsGauge = new Gauge({
  name: 'switchyard_gateway_open_tunnels',
  help: 'Upgraded connections (WebSocket) the gateway relays right now',
  registers: [metricsRegistry],
});

const idleTunnelsCut = new Counter({
  name: 'switchyard_gateway_idle_tunnels_cut_total',
  help: 'Relayed upgrades cut because no byte moved either way for GATEWAY_TUNNEL_IDLE_MS',
  registers: [metricsRegistry],
});

/** The two connections of one relayed upgrade. */
interface Tunnel {
  client: Duplex;
  upstream: Duplex;
}

export function upgradeRelay(table: readonly GatewayRoute[], options: UpgradeOptions): UpgradeRelay {
  const needsUser = table.find((route) => route.method === 'GET' && route.auth === 'user');
  if (needsUser && !options.guards?.verifier) throw new Error(`${needsUser.path} needs a user, and the upgrade relay was given no token check`);
  // Only GET routes can be upgraded; the HTTP dispatch's matching rules (route-matcher.ts).
  const routes = new RouteMatcher(table.filter((route) => route.method === 'GET'));
  const tunnels = new Set<Tunnel>();

  const relay = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // An error on a socket nobody listens to would take the process down.
    socket.on('error', () => socket.destroy());
    void relayUpgrade(req, socket, head, routes, options, tunnels).catch((error: unknown) => {
      options.logger?.error({ err: error }, 'upgrade relay failed');
      socket.destroy();
    });
  };
  // defineProperties, not Object.assign: assign would copy the getter's value once (0), not the getter.
  return Object.defineProperties(relay, {
    openTunnels: { get: () => tunnels.size, enumerable: true },
    closeAll: {
      value: () => {
        for (const { client, upstream } of tunnels) {
          client.destroy();
          upstream.destroy();
        }
      },
    },
  }) as UpgradeRelay;
}

async function relayUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  routes: RouteMatcher,
  options: UpgradeOptions,
  tunnels: Set<Tunnel>,
): Promise<void> {
  const target = req.url ?? '/';
  const at = target.indexOf('?');
  const path = at === -1 ? target : target.slice(0, at);
  const query = at === -1 ? '' : target.slice(at);
  const identity = { 'x-gateway': options.gatewayId() };
  try {
    await options.guards?.admitClient?.(req);
  } catch (error) {
    return refuse(socket, error, identity, options);
  }
  let found: { route: GatewayRoute; params: Record<string, string> } | undefined;
  try {
    // Only a GET can be upgraded (RFC 6455 §4.1).
    found = req.method === 'GET' ? routes.find('GET', path) : undefined;
  } catch {
    return answerError(socket, 400, { error: { code: 'invalid_request', message: 'malformed path' } }, identity);
  }
  if (!found) {
    return answerError(socket, 404, { error: { code: 'not_found', message: `no route for ${req.method} ${path}` } }, identity);
  }
  const { route, params } = found;
  if (route.auth === 'user') {
    try {
      const user = await authenticate(options.guards!.verifier!, req.headers.authorization, new URLSearchParams(query));
      await options.guards?.admitUser?.(user.id);
    } catch (error) {
      return refuse(socket, error, identity, options);
    }
  }
  const client = options.clientFor(route.service);
  const requestId = firstLine(req.headers['x-request-id']) ?? randomUUID();
  let answer: UpgradeResponse;
  try {
    const upstreamPath = route.resolveUpstreamPath(params);
    answer = await client.upgrade({
      path: upstreamPath + query,
      headers: {
        ...forwardedRequestHeaders(req, requestId, options.fromTrustedProxy?.(req) ?? false),
        // Hop-by-hop, so not forwarded as such: the gateway asks its own hop to switch too.
        connection: 'upgrade',
        upgrade: String(req.headers.upgrade ?? ''),
      },
      idempotent: route.idempotent,
      retryPolicy: route.retryPolicy,
      signal: abortWhenSocketCloses(socket),
      ...route.timeouts,
    });
  } catch (error) {
    if (error instanceof RequestCancelled) return void socket.destroy();
    const { status, body } = toErrorResponse(error);
    options.logger?.warn({ service: client.service, path, status, code: body.error.code, requestId }, 'upgrade not relayed');
    return answerError(socket, status, body, identity);
  }
  if (socket.destroyed) {
    discard(answer);
    return;
  }
  if (!answer.upgraded) return relayRefusal(socket, answer, client, identity);

  socket.write(statusLine(101) + headerLines(pairs(answer.rawHeaders), identity) + '\r\n');
  if (answer.head.length > 0) socket.write(answer.head);
  if (head.length > 0) answer.socket.write(head);
  tunnel(socket, answer.socket, tunnels, options.tunnelIdleMs ?? DEFAULT_TUNNEL_IDLE_MS);
}

/** Bytes both ways with back-pressure; a side that ends or fails ends or cuts the other. */
function tunnel(client: Duplex, upstream: Duplex, tunnels: Set<Tunnel>, idleMs: number): void {
  const entry = { client, upstream };
  tunnels.add(entry);
  openTunnelsGauge.inc();
  let open = 2;
  client.pipe(upstream);
  upstream.pipe(client);
  const cut = () => {
    client.destroy();
    upstream.destroy();
  };
  upstream.on('error', cut);
  client.on('error', cut);
  for (const side of [client, upstream]) {
    if (!(side instanceof Socket)) continue;
    side.setKeepAlive(true, KEEPALIVE_DELAY_MS);
    // Every byte of the tunnel is read on one socket and written on the other, and both reset a
    // socket's timer: either one timing out means nothing moved either way.
    side.setTimeout(idleMs, () => {
      if (client.destroyed && upstream.destroyed) return;
      idleTunnelsCut.inc();
      cut();
    });
  }
  const finishOther = (other: Duplex) => () => {
    open -= 1;
    if (open === 0) {
      tunnels.delete(entry);
      openTunnelsGauge.dec();
    }
    if (other.destroyed) return;
    // What the closed side sent is on its way; the other side finishes its half, or is cut.
    other.end();
    setTimeout(() => other.destroy(), CLOSE_GRACE_MS).unref();
  };
  client.once('close', finishOther(upstream));
  upstream.once('close', finishOther(client));
}

/** The instance answered without switching (400, 401, 404...): its answer, then the connection closes. */
function relayRefusal(
  socket: Duplex,
  answer: Extract<UpgradeResponse, { upgraded: false }>,
  client: ServiceClient,
  identity: Record<string, string>,
): void {
  const length = firstLine(answer.headers['content-length']);
  const headers = {
    ...clientResponseHeaders(answer.headers),
    ...(length === undefined ? {} : { 'content-length': length }),
    'x-served-by': firstLine(answer.headers['x-served-by']) ?? answer.instance.id ?? client.service,
    ...identity,
    // Without a length, the end of the body is the end of the connection (RFC 9112 §6.3).
    connection: 'close',
  };
  socket.write(statusLine(answer.status) + headerLines(Object.entries(headers)) + '\r\n');
  pipeToEnd(answer.body, socket);
}

function pipeToEnd(body: Readable, socket: Duplex): void {
  body.pipe(socket);
  // An upstream failing mid-body must not look like a complete answer.
  body.once('error', () => socket.destroy());
  socket.once('close', () => body.destroy());
  socket.once('finish', () => socket.destroy());
}

/**
 * The answer to an upgrade refused at the edge (401, 429; anything unexpected as the error handler
 * would word it), with the headers the HTTP routes send beside the same refusals.
 */
function refuse(socket: Duplex, error: unknown, identity: Record<string, string>, options: UpgradeOptions): void {
  const { status, body } = toErrorResponse(error);
  // A 503 (auth's keys out of reach) is an operational state worth a line, not a crash report.
  if (status >= 500) options.logger?.warn({ code: body.error.code, err: (error as Error).message }, 'upgrade refused at the edge');
  const challenge = challengeFor(error);
  const extra: Record<string, string> = {
    ...(challenge && { 'www-authenticate': challenge }),
    ...(error instanceof RateLimited && { 'retry-after': String(error.retryAfterSeconds) }),
  };
  answerError(socket, status, body, { ...identity, ...extra });
}

function answerError(socket: Duplex, status: number, body: unknown, identity: Record<string, string>): void {
  if (socket.destroyed) return;
  const payload = Buffer.from(JSON.stringify(body));
  const headers = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(payload.length),
    ...identity,
    connection: 'close',
  };
  socket.write(statusLine(status) + headerLines(Object.entries(headers)) + '\r\n');
  socket.end(payload, () => socket.destroy());
}

/** Aborts when the client's connection closes while the handshake with the instance is under way. */
function abortWhenSocketCloses(socket: Duplex): AbortSignal {
  const controller = new AbortController();
  socket.once('close', () => controller.abort());
  return controller.signal;
}

function discard(answer: UpgradeResponse): void {
  if (answer.upgraded) answer.socket.destroy();
  else answer.body.destroy();
}

function statusLine(status: number): string {
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
}

function headerLines(headers: Iterable<[string, string | string[]]>, extra: Record<string, string> = {}): string {
  let lines = '';
  for (const [name, value] of [...headers, ...Object.entries(extra)]) {
    for (const one of Array.isArray(value) ? value : [value]) lines += `${name}: ${one}\r\n`;
  }
  return lines;
}

/** [name, value, name, value...] as pairs. */
function pairs(raw: readonly string[]): Array<[string, string]> {
  const result: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) result.push([raw[i]!, raw[i + 1]!]);
  return result;
}

function firstLine(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
