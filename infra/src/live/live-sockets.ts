/**
 * The WebSocket endpoint of a service (`ws`, noServer): authenticates the upgrade itself (services
 * trust no network), hands each socket to the service as a LiveSession, and keeps the platform's
 * promises about it: `x-served-by` on the 101 and a first `{type:"ready", servedBy}` event,
 * heartbeats, bounded buffers, refused garbage, and on shutdown a 1012 close so the client
 * reconnects elsewhere and resumes.
 *
 *   const live = liveSockets(ctx, { onConnect(session, query) { ... } });
 *   return { routes, upgrade: live.upgrade, onShutdown: (budget) => live.onShutdown(budget) };
 */
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import { Counter, Gauge } from 'prom-client';
import type { WebSocket } from 'ws';
import { bearerChallenge } from '../auth/require-user.js';
import type { AuthenticatedUser } from '../auth/token-verifier.js';
import { metricsRegistry } from '../metrics.js';
import type { ServiceContext } from '../server/context.js';
import { toErrorResponse } from '../server/error-handler.js';
import { HttpError } from '../server/http-error.js';
import type { ShutdownBudget } from '../server/service-spec.js';
import { withSpan } from '../tracing.js';
import { CLOSE, MAX_INBOUND_FRAME_BYTES, classifyFrame, type ClientEvent } from './frames.js';
import { Heartbeat } from './heartbeat.js';
import { writeRefusal } from './refusal.js';
import { createSession, type LiveSession } from './session.js';
import { splitTarget, upgradeAccessToken, withoutToken } from './upgrade-token.js';

export interface LiveSocketsOptions {
  /** The upgrade path on this service (default `/ws`); any other path is answered 404. */
  path?: string;
  /**
   * Checks the query (without `access_token`) before the protocol switches: throw an HttpError
   * (e.g. `badRequest('since must be a message id')`) and the client gets that status as JSON.
   */
  validate?(query: URLSearchParams, user: AuthenticatedUser): void | Promise<void>;
  /**
   * A socket is open and its `ready` event sent. Subscribe, replay, then let live events flow.
   * Throwing an HttpError closes the socket with 1008 and the error's code as the reason; any
   * other error is logged and closes it with 1011.
   */
  onConnect(session: LiveSession, query: URLSearchParams): void | Promise<void>;
  /**
   * The service's own client events (`messageTypes`; every type but `ping` when that is not
   * given). An HttpError thrown is answered as an `{type:"error", code, message}` event.
   */
  onMessage?(session: LiveSession, event: ClientEvent): void | Promise<void>;
  messageTypes?: readonly string[];
}

export interface LiveSockets {
  /** For ServiceParts.upgrade. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Call from the service's onShutdown: closes every socket with 1012 and waits (within the budget) for the closes. */
  onShutdown(budget: ShutdownBudget): Promise<void>;
  /** Sockets open now. */
  readonly size: number;
}

// ws is loaded by the first liveSockets() call, not by importing @switchyard/infra: most services
// hold no sockets and would carry its code in their heap for nothing (BENCHMARKS.md, "Footprint").
const require = createRequire(import.meta.url);

/** A socket closed for falling behind gets this long to read its backlog and the close frame. */
const SLOW_CLOSE_GRACE_MS = 5_000;
/** On shutdown, how long the clients get to answer the 1012 close before their sockets are cut. */
const SHUTDOWN_CLOSE_WAIT_MS = 5_000;

const openSockets = new Gauge({
  name: 'switchyard_live_open_sockets',
  help: 'Live WebSocket connections open on this instance',
  registers: [metricsRegistry],
});
const eventsSent = new Counter({
  name: 'switchyard_live_events_sent_total',
  help: 'Events queued on live sockets',
  registers: [metricsRegistry],
});
const eventsDropped = new Counter({
  name: 'switchyard_live_events_dropped_total',
  help: 'Events not sent on a live socket: closed (the socket was closing) or slow_consumer (it fell behind and was closed)',
  labelNames: ['reason'] as const,
  registers: [metricsRegistry],
});
const socketsClosed = new Counter({
  name: 'switchyard_live_sockets_closed_total',
  help: 'Live sockets closed, by close code',
  labelNames: ['code'] as const,
  registers: [metricsRegistry],
});
const upgradesRefused = new Counter({
  name: 'switchyard_live_upgrades_refused_total',
  help: 'Upgrade requests answered without switching, by status',
  labelNames: ['status'] as const,
  registers: [metricsRegistry],
});

/** Sockets open in this process; null until a live endpoint exists (most services have none). */
let openInProcess: number | null = null;

/** Live sockets open on this instance, or null when it serves no live endpoint (for the balancing view). */
export function openLiveSocketCount(): number | null {
  return openInProcess;
}

export function liveSockets<C>(ctx: ServiceContext<C>, options: LiveSocketsOptions): LiveSockets {
  openInProcess ??= 0;
  const path = options.path ?? '/ws';
  const { logger, config } = ctx;
  // In setup: the verifier creates a client of `auth`, which only setup may do.
  const verifier = ctx.tokenVerifier();
  const knownTypes = options.onMessage ? (options.messageTypes ? new Set(options.messageTypes) : 'any') : new Set<string>();
  const { WebSocketServer } = require('ws') as typeof import('ws');
  const server = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_INBOUND_FRAME_BYTES,
    // Events are small JSON; compression would cost CPU per socket and memory per context.
    perMessageDeflate: false,
    clientTracking: false,
  });
  // A browser cannot read upgrade headers (hence the ready event), other clients and tests can.
  server.on('headers', (headers) => headers.push(`x-served-by: ${ctx.serviceId()}`));
  const sockets = new Set<WebSocket>();
  const heartbeat = new Heartbeat(config.WS_HEARTBEAT_MS, () => logger.info('live: socket missed a heartbeat; terminated'));

  const refuse = (socket: Duplex, error: unknown) => {
    const { status, body } = toErrorResponse(error);
    upgradesRefused.inc({ status: String(status) });
    if (status >= 500) logger.warn({ status, code: body.error.code }, 'live: upgrade refused');
    const challenge = bearerChallenge(error);
    writeRefusal(socket, status, body, { 'x-served-by': ctx.serviceId(), ...(challenge && { 'www-authenticate': challenge }) });
  };

  const admit = async (req: IncomingMessage): Promise<{ user: AuthenticatedUser; query: URLSearchParams }> => {
    const target = splitTarget(req.url);
    if (target.path !== path && target.path !== `${path}/`) throw new HttpError(404, 'not_found', `no socket at ${target.path}`);
    if (ctx.shuttingDown.aborted) throw shuttingDown();
    const user = await verifier.verify(upgradeAccessToken(req.headers.authorization, target.query));
    const query = withoutToken(target.query);
    await options.validate?.(query, user);
    return { user, query };
  };

  const open = (ws: WebSocket, user: AuthenticatedUser, query: URLSearchParams) => {
    sockets.add(ws);
    openSockets.inc();
    openInProcess = (openInProcess ?? 0) + 1;
    // ws reports bad frames (too big: 1009, invalid UTF-8: 1007) as an error, then closes; an
    // 'error' nobody listens to would take the instance down.
    ws.on('error', (err) => logger.debug({ err: err.message }, 'live: socket error'));
    ws.once('close', (code) => {
      sockets.delete(ws);
      openSockets.dec();
      openInProcess = (openInProcess ?? 1) - 1;
      socketsClosed.inc({ code: String(code) });
    });
    const session = createSession(ws, user, {
      maxBufferedBytes: config.WS_MAX_BUFFERED_BYTES,
      slowCloseGraceMs: SLOW_CLOSE_GRACE_MS,
      onSent: () => eventsSent.inc(),
      onDropped: (reason) => {
        eventsDropped.inc({ reason });
        if (reason === 'slow_consumer') logger.info({ session: session.id }, 'live: slow consumer closed (1008)');
      },
    });
    heartbeat.track(ws);
    ws.on('message', (data: Buffer, isBinary: boolean) => void handleFrame(session, data, isBinary));
    session.send({ type: 'ready', servedBy: ctx.serviceId() });
    // Shutdown began while this socket was switching: it would miss the 1012 round.
    if (ctx.shuttingDown.aborted) return session.close(CLOSE.serviceRestart, 'service_restart');
    void withSpan('live.connect', () => Promise.resolve(options.onConnect(session, query))).catch((error: unknown) => {
      if (error instanceof HttpError) return session.close(CLOSE.policy, error.code);
      logger.error({ err: error, session: session.id }, 'live: onConnect failed');
      session.close(CLOSE.internalError, 'internal_error');
    });
  };

  const handleFrame = async (session: LiveSession, data: Buffer, isBinary: boolean) => {
    const verdict = classifyFrame(data, isBinary, knownTypes);
    switch (verdict.action) {
      case 'pong':
        session.send({ type: 'pong' });
        return;
      case 'error':
        session.send({ type: 'error', code: verdict.code, message: verdict.message });
        return;
      case 'close':
        session.close(verdict.code, verdict.reason);
        return;
      case 'deliver':
        try {
          await options.onMessage!(session, verdict.event);
        } catch (error) {
          const { status, body } = toErrorResponse(error);
          if (status >= 500) logger.error({ err: error, session: session.id, type: verdict.event.type.slice(0, 64) }, 'live: onMessage failed');
          session.send({ type: 'error', code: body.error.code, message: body.error.message });
        }
    }
  };

  return {
    upgrade(req, socket, head) {
      // An error on a socket nobody listens to would take the process down.
      socket.on('error', () => socket.destroy());
      admit(req).then(
        ({ user, query }) => {
          if (socket.destroyed) return;
          // Shutdown may have begun while the token was being verified.
          if (ctx.shuttingDown.aborted) return refuse(socket, shuttingDown());
          server.handleUpgrade(req, socket, head, (ws) => open(ws, user, query));
        },
        (error: unknown) => refuse(socket, error),
      );
    },
    async onShutdown(budget) {
      heartbeat.stop();
      if (sockets.size === 0) return;
      const closed = [...sockets].map((ws) => new Promise<void>((resolve) => ws.once('close', () => resolve())));
      for (const ws of sockets) ws.close(CLOSE.serviceRestart, 'service_restart');
      logger.info({ sockets: closed.length }, 'live: closing sockets (1012 service_restart)');
      const waitMs = Math.min(budget.budgetMs, SHUTDOWN_CLOSE_WAIT_MS);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        budget.signal.addEventListener('abort', () => resolve(), { once: true });
        void Promise.all(closed).then(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      // Clients that never answered the close: cut, so the drain is not held by them.
      for (const ws of sockets) ws.terminate();
    },
    get size() {
      return sockets.size;
    },
  };
}

function shuttingDown(): HttpError {
  return new HttpError(503, 'shutting_down', 'this instance is shutting down; connect again');
}
