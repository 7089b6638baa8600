import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Router } from 'express';
import type { Redis } from 'ioredis';
import type { Pool } from 'mysql2/promise';
import { z } from 'zod';
import { sleep } from '../backoff.js';
import { ServiceClient, type ServiceClientOptions } from '../client/service-client.js';
import { ConfigError, loadConfig, type BaseConfig } from '../config.js';
import { createConsulClient } from '../consul/client.js';
import { createLogger, type Logger } from '../logger.js';
import { Registrar } from '../consul/registrar.js';
import { createMysqlPool, createRedis } from '../stores.js';
import { registerStoreInstrumentations, startTracing, type TracingHandle } from '../tracing.js';
import { Watcher } from '../consul/watcher.js';
import type { Instancer } from '../sd/instancer.js';
import { WatcherRegistry } from '../sd/watcher-registry.js';
import { createApp } from './app.js';
import type { HealthState, Probe } from './health.js';
import { runProbes } from './health.js';
import { advertiseAddress, serviceIdFor } from './network.js';

const storeConfigShape = {
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  MYSQL_URL: z.string().url().default('mysql://root@127.0.0.1:3306/switchyard'),
  /**
   * Appended to this service's Consul name and to every name it discovers. Empty in production;
   * tests and benchmarks set it to run an isolated copy of a stack beside others on one Consul.
   */
  SERVICE_NAME_SUFFIX: z.string().regex(/^[A-Za-z0-9-]{0,40}$/, 'letters, digits and dashes, at most 40').default(''),
  /** Safety refresh of the discovery blocking queries (changes arrive at once regardless). */
  DISCOVERY_WAIT_SECONDS: z.coerce.number().int().min(1).max(600).default(30),
};

/** What a service's setup receives: its config and the platform's shared pieces. */
export interface ServiceContext<C> {
  config: BaseConfig & z.infer<z.ZodObject<typeof storeConfigShape>> & C;
  logger: Logger;
  /**
   * A ServiceClient for `service`, sharing this process's single watcher of that service. Create
   * clients in `setup` (each owns a connection pool and breakers): calling this later throws.
   */
  client(service: string, options?: ServiceClientOptions): ServiceClient;
  watch(service: string): Instancer;
  /** The process's Redis connection (REDIS_URL), traced, probed by /health/ready, closed on exit. */
  redis(): Redis;
  /** The process's MySQL pool (MYSQL_URL), traced, probed by /health/ready, closed on exit. */
  mysql(): Pool;
  /** This instance's Consul service id (known once the server listens). */
  serviceId(): string;
}

export interface ServiceParts {
  routes: (router: Router) => void;
  /** Extra readiness checks beyond the stores the service uses. */
  probes?: Record<string, Probe>;
  /** Starts background work once the instance listens (e.g. the worker's loop). */
  onStarted?: () => void | Promise<void>;
  /**
   * Handles HTTP upgrade requests (WebSocket): the gateway relays them to an upstream. Without
   * it, Node closes any upgrade request's connection.
   */
  upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** Stops background work; starts right after deregistration, finishes before the drain and before the stores close. */
  onShutdown?: () => void | Promise<void>;
}

export interface ServiceSpec<E extends z.ZodRawShape> {
  /** Consul service name. */
  name: string;
  config?: E;
  tags?: string[];
  /** Port when PORT is unset (gateway 8080, webui 8000); everything else takes an ephemeral one. */
  defaultPort?: number;
  jsonLimit?: string;
  /** false: leave request bodies unparsed (a proxy forwards the bytes as received). */
  parseJson?: boolean;
  /**
   * Whether a request's trace context (traceparent, uber-trace-id, baggage) may be continued.
   * Internal services trust their callers (default); the public gateway trusts only its
   * configured proxies and starts a new trace for everyone else.
   */
  trustTraceContext?: (req: IncomingMessage) => boolean;
  setup(ctx: ServiceContext<z.infer<z.ZodObject<E>>>): ServiceParts | Promise<ServiceParts>;
}

export interface RunningService {
  serviceId: string;
  port: number;
  server: Server;
  /** Deregister → drain → close, as on SIGTERM (without exiting the process). */
  shutdown(): Promise<void>;
  /** Upper bound runService allows shutdown() before it exits anyway. */
  maxShutdownMs: number;
}

/**
 * Boots one instance: config → tracing hooks → setup → listen → ready probe → register in Consul
 * (retrying while Consul is unreachable) → SIGTERM/SIGINT: deregister → short grace → stop
 * background work → drain in-flight requests → close stores → flush traces.
 */
export async function startService<E extends z.ZodRawShape = {}>(spec: ServiceSpec<E>): Promise<RunningService> {
  const env = { ...process.env };
  if (env.PORT === undefined && spec.defaultPort !== undefined) env.PORT = String(spec.defaultPort);
  type Config = ServiceContext<z.infer<z.ZodObject<E>>>['config'];
  const config = loadConfig({ ...storeConfigShape, ...(spec.config ?? ({} as E)) }, env) as Config;
  registerStoreInstrumentations();
  const name = `${spec.name}${config.SERVICE_NAME_SUFFIX}`;
  const discoveryName = (service: string) => `${service}${config.SERVICE_NAME_SUFFIX}`;
  const logger = createLogger({ service: name, level: config.LOG_LEVEL });
  const consul = createConsulClient(config.CONSUL_HTTP_ADDR);
  const watchers = new WatcherRegistry((service) => new Watcher({ consul, service, logger, waitSeconds: config.DISCOVERY_WAIT_SECONDS }).start());
  const state: HealthState = { draining: false };
  const clients: ServiceClient[] = [];
  const closers: Array<() => Promise<unknown>> = [];
  const probes: Record<string, Probe> = {};
  let serviceId = `${name}-starting`;
  let settingUp = true;
  let redis: Redis | undefined;
  let mysql: Pool | undefined;

  const ctx: ServiceContext<z.infer<z.ZodObject<E>>> = {
    config,
    logger,
    client(service, options) {
      if (!settingUp) {
        throw new Error(`ctx.client('${service}') called after setup: create clients once, in setup, and reuse them`);
      }
      const client = new ServiceClient(discoveryName(service), watchers.watch(discoveryName(service)), { logger, ...options });
      clients.push(client);
      return client;
    },
    watch: (service) => watchers.watch(discoveryName(service)),
    redis() {
      if (!redis) {
        const connection = createRedis(config.REDIS_URL);
        connection.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
        probes.redis = () => connection.ping();
        closers.push(() => connection.quit().catch(() => connection.disconnect()));
        redis = connection;
      }
      return redis;
    },
    mysql() {
      if (!mysql) {
        const pool = createMysqlPool(config.MYSQL_URL);
        probes.mysql = () => pool.query('SELECT 1');
        closers.push(() => pool.end());
        mysql = pool;
      }
      return mysql;
    },
    serviceId: () => serviceId,
  };

  const parts = await spec.setup(ctx);
  settingUp = false;
  Object.assign(probes, parts.probes);
  const app = createApp({
    logger,
    serviceId: () => serviceId,
    probes,
    state,
    routes: parts.routes,
    jsonLimit: spec.jsonLimit,
    parseJson: spec.parseJson ?? true,
    accessLog: config.ACCESS_LOG,
    trustTraceContext: spec.trustTraceContext,
  });
  const server = await listen(app, config.PORT);
  if (parts.upgrade) server.on('upgrade', parts.upgrade);
  const inFlight = trackInFlight(server);
  const port = (server.address() as AddressInfo).port;
  serviceId = serviceIdFor(name, port);
  logger.setBindings({ serviceId });
  const address = advertiseAddress(config.ADVERTISE_ADDR, config.CONSUL_HTTP_ADDR);
  const tracing: TracingHandle = startTracing({
    serviceName: name,
    instanceId: serviceId,
    version: config.SERVICE_VERSION,
    endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
  });
  logger.info({ port, address, tracing: tracing.enabled }, `${name} listening on :${port}`);

  const registrar = new Registrar(
    {
      id: serviceId,
      name,
      address,
      port,
      tags: spec.tags ?? [],
      meta: { version: config.SERVICE_VERSION, pid: String(process.pid), started_at: new Date().toISOString() },
    },
    { consul, logger, isReady: async () => !state.draining && (await runProbes(probes)).ok },
  );
  // Register only once our own dependencies answer, so "passing" at registration is the truth.
  const registration = waitUntilReady(probes, logger, state).then(() => (state.draining ? undefined : registrar.start()));
  await parts.onStarted?.();

  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    (stopping ??= (async () => {
      logger.info('shutting down: deregistering, then draining');
      state.draining = true;
      inFlight.closeConnectionsAfterResponse();
      await registrar.deregister();
      // Callers' blocking queries see the deregistration within milliseconds; this grace covers a
      // request already on its way, so it lands on an instance that still answers. Background
      // work stops meanwhile: when a whole stack stops at once, its upstreams are leaving too.
      const [, stoppedWork] = await Promise.allSettled([
        sleep(config.SHUTDOWN_GRACE_MS),
        Promise.resolve().then(() => parts.onShutdown?.()), // a synchronous throw becomes a rejection
      ]);
      // A failing stop hook must not skip the drain, the store closes and the trace flush.
      if (stoppedWork.status === 'rejected') logger.error({ err: stoppedWork.reason }, 'onShutdown failed; shutting down anyway');
      await drain(server, config.SHUTDOWN_DRAIN_MS, logger);
      await Promise.allSettled(clients.map((c) => c.close()));
      await watchers.stopAll();
      await Promise.allSettled(closers.map((close) => close()));
      await registration.catch(() => {});
      await tracing.shutdown();
      logger.info('stopped');
    })());

  return { serviceId, port, server, shutdown, maxShutdownMs: config.SHUTDOWN_TIMEOUT_MS };
}

/**
 * The entry point of a service's main.ts: starts it, exits 0 after a graceful shutdown on
 * SIGTERM/SIGINT, exits 1 with one clear line on bad configuration or a failed start.
 */
export async function runService<E extends z.ZodRawShape = {}>(spec: ServiceSpec<E>): Promise<void> {
  let running: RunningService;
  try {
    running = await startService(spec);
  } catch (error) {
    const message = error instanceof ConfigError ? error.message : `failed to start: ${(error as Error).stack ?? error}`;
    process.stderr.write(`${spec.name}: ${message}\n`);
    process.exit(1);
  }
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      process.stderr.write(`${spec.name}: second ${signal}, exiting without waiting\n`);
      process.exit(130);
    }
    // Whatever hangs (a store that never closes, an unreachable OTLP endpoint), exit in bounded time.
    setTimeout(() => {
      process.stderr.write(`${spec.name}: shutdown took longer than ${running.maxShutdownMs} ms, exiting\n`);
      process.exit(1);
    }, running.maxShutdownMs).unref();
    running.shutdown().then(
      () => process.exit(0),
      (error) => {
        process.stderr.write(`${spec.name}: shutdown failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // A crash still deregisters (bounded), so callers stop routing to us at once rather than after
  // Consul's check fails.
  process.on('uncaughtException', (error) => {
    process.stderr.write(`${spec.name}: fatal: ${error.stack ?? error}\n`);
    const exit = () => process.exit(1);
    setTimeout(exit, 3_000).unref();
    running.shutdown().finally(exit);
  });
}

function listen(app: ReturnType<typeof createApp>, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port);
    server.once('listening', () => resolve(server));
    server.once('error', reject);
    // Longer than the clients' keep-alive (4.5 s) so the client, not the server, closes idle sockets.
    server.keepAliveTimeout = 6_000;
    server.headersTimeout = 7_000;
    server.on('checkContinue', continueWhenRead(server));
  });
}

/**
 * `Expect: 100-continue`: Node answers 100 at once by default, so a client starts uploading a body
 * the route may refuse (413, 404, 401). Instead, the 100 goes out only when something starts
 * reading the body; a route that answers first refuses without the upload ever starting.
 */
function continueWhenRead(server: Server) {
  return (req: IncomingMessage, res: ServerResponse) => {
    req.on('newListener', function sendContinue(event: string | symbol) {
      if (event !== 'data' && event !== 'readable') return;
      req.off('newListener', sendContinue);
      if (!res.headersSent) res.writeContinue();
    });
    server.emit('request', req, res);
  };
}

async function waitUntilReady(probes: Record<string, Probe>, logger: Logger, state: HealthState): Promise<void> {
  for (let attempt = 0; !state.draining; attempt++) {
    const { ok, checks } = await runProbes(probes);
    if (ok) return;
    if (attempt % 10 === 0) logger.warn({ checks }, 'not ready yet; registering in consul once the probes pass');
    await sleep(500);
  }
}

/**
 * Responses still being prepared when shutdown begins. Their callers (ServiceClient's keep-alive
 * pool) would otherwise keep the socket open after the answer, and server.close() would wait for
 * their idle timeout (seconds) before the process can exit; `connection: close` on the answer
 * ends the socket right after it, without racing a request the caller may be sending.
 */
function trackInFlight(server: Server) {
  const responses = new Set<ServerResponse>();
  server.on('request', (_req, res: ServerResponse) => {
    responses.add(res);
    res.once('close', () => responses.delete(res));
  });
  return {
    closeConnectionsAfterResponse() {
      for (const res of responses) if (!res.headersSent) res.setHeader('connection', 'close');
    },
  };
}

async function drain(server: Server, timeoutMs: number, logger: Logger): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const cancelTimer = new AbortController();
  const timedOut = await Promise.race([closed.then(() => false), sleep(timeoutMs, cancelTimer.signal).then(() => true)]);
  cancelTimer.abort();
  if (timedOut) {
    logger.warn({ timeoutMs }, 'drain timeout: closing the remaining connections');
    server.closeAllConnections();
    await closed;
  }
}
