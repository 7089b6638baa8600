import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';
import { sleep } from '../backoff.js';
import { loadConfig } from '../config.js';
import { consulConnection, createConsulClient } from '../consul/client.js';
import { Registrar } from '../consul/registrar.js';
import { createLogger, type Logger } from '../logger.js';
import { registerStoreInstrumentations, startTracing, type TracingHandle } from '../tracing.js';
import { releaseStartupMemory } from '../runtime/startup-memory.js';
import { pinTickObjectShape } from '../runtime/tick-object-pin.js';
import { createAdminApp, createApp, requestListener } from './app.js';
import { createServiceContext, platformConfigShape, type ContextResources, type PlatformConfig } from './context.js';
import { markDegrading, runProbes, type HealthState, type Probe } from './health.js';
import { drain, listen, trackInFlight } from './http-server.js';
import { advertiseAddress, serviceIdFor } from './network.js';
import type { RunningService, ServiceParts, ServiceSpec } from './service-spec.js';
import { ShutdownClock } from './shutdown-clock.js';

/** Raised by startService when a stop was requested before the instance listened. */
export class StartAborted extends Error {
  override name = 'StartAborted';
}

/**
 * Boots one instance, top-down: config → store tracing hooks → setup → listen (public, and admin
 * if asked) → tracing → ready probe → register in Consul (retrying while Consul is unreachable)
 * → background work. `stopRequested` (a signal that arrived during start) skips what is left:
 * nothing is registered for a process that is already leaving.
 */
export async function startService<E extends z.ZodRawShape = {}>(
  spec: ServiceSpec<E>,
  options: { stopRequested?: AbortSignal } = {},
): Promise<RunningService> {
  type Config = PlatformConfig & z.infer<z.ZodObject<E>>;
  // Before the start-up collection: nextTick keeps its speed after it (tick-object-pin.ts).
  pinTickObjectShape();
  const env = { ...process.env };
  if (env.PORT === undefined && spec.defaultPort !== undefined) env.PORT = String(spec.defaultPort);
  const config = loadConfig({ ...platformConfigShape, ...(spec.config ?? ({} as E)) }, env) as Config;
  registerStoreInstrumentations();
  const name = `${spec.name}${config.SERVICE_NAME_SUFFIX}`;
  const logger = createLogger({ service: name, level: config.LOG_LEVEL, flushMs: config.LOG_FLUSH_MS });
  const consul = createConsulClient(consulConnection(config));
  const resources = createServiceContext<z.infer<z.ZodObject<E>>>({ config, name, logger, consul });

  const parts = await spec.setup(resources.ctx);
  resources.sealClients();
  Object.assign(resources.probes, parts.probes);
  markDegrading(resources.probes, parts.degradedWithout);
  if (options.stopRequested?.aborted) {
    await closeResources(resources);
    throw new StartAborted(`${name}: stop requested during setup; not listening, not registering`);
  }

  const state: HealthState = { draining: false };
  const listeners = await openListeners(spec, config, parts, resources, state, logger);
  const serviceId = serviceIdFor(name, listeners.port);
  resources.setServiceId(serviceId);
  logger.setBindings({ serviceId });
  const address = await advertiseAddress(config.ADVERTISE_ADDR, config.CONSUL_HTTP_ADDR);
  const tracing = startTracing({ serviceName: name, instanceId: serviceId, version: config.SERVICE_VERSION, endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });
  logger.info({ port: listeners.port, adminPort: listeners.adminPort, address, tracing: tracing.enabled }, `${name} listening on :${listeners.port}`);

  const registrar = new Registrar(
    {
      id: serviceId,
      name,
      address,
      port: listeners.port,
      checkPort: listeners.adminPort,
      tags: spec.tags ?? [],
      meta: {
        version: config.SERVICE_VERSION,
        pid: String(process.pid),
        started_at: new Date().toISOString(),
        ...(listeners.adminPort !== undefined && { admin_port: String(listeners.adminPort) }),
      },
    },
    { consul, logger, isReady: async () => !state.draining && (await runProbes(resources.probes)).ok },
  );
  const stopping = options.stopRequested?.aborted === true;
  // Register only once our own dependencies answer, so "passing" at registration is the truth.
  const registered = stopping ? undefined : waitUntilReady(resources.probes, logger, state).then(() => (state.draining ? false : registrar.start().then(() => true)));
  if (!stopping) await parts.onStarted?.();
  // Start-up is over once registered and the service's own start hook is done: what loading
  // and starting left on the heap goes back now, not minutes later (a no-op without --expose-gc).
  void registered?.then((done) => {
    if (!done || state.draining) return;
    releaseStartupMemory((pauseMs) => {
      if (pauseMs !== undefined) logger.debug({ pauseMs: Math.round(pauseMs) }, 'released the memory start-up left');
    });
  });

  let stopped: Promise<void> | undefined;
  const shutdown = () => (stopped ??= stopService({ config, logger, resources, parts, state, registrar, listeners, tracing }));
  return { serviceId, port: listeners.port, adminPort: listeners.adminPort, server: listeners.server, shutdown, maxShutdownMs: config.SHUTDOWN_TIMEOUT_MS };
}

interface Stoppable {
  config: PlatformConfig;
  logger: Logger;
  resources: ContextResources<unknown>;
  parts: ServiceParts;
  state: HealthState;
  registrar: Registrar;
  listeners: Listeners;
  tracing: TracingHandle;
}

/**
 * Shutdown, top-down, every step within one SHUTDOWN_TIMEOUT_MS budget: stop starting outgoing
 * calls → deregister (callers drop us within milliseconds) → a short grace for requests already
 * on their way → the stop hook and the drain of in-flight requests → close clients, watchers and
 * stores → flush traces. A step that fails or overruns is logged and the next one still runs.
 */
async function stopService(s: Stoppable): Promise<void> {
  const { config, logger, resources, parts, state } = s;
  const clock = new ShutdownClock(config.SHUTDOWN_TIMEOUT_MS, logger);
  // Kept back from the first steps for closing stores and flushing traces.
  const tail = Math.min(3_000, config.SHUTDOWN_TIMEOUT_MS / 5);
  logger.info('shutting down: stopping outgoing work, deregistering, then draining');
  resources.beginShutdown();
  state.draining = true;
  s.listeners.inFlight.closeConnectionsAfterResponse();
  await clock.step('deregister', 2_000, ({ budgetMs }) => s.registrar.deregister(budgetMs), tail);
  const hook = clock.step('onShutdown', Infinity, (budget) => parts.onShutdown?.(budget), tail);
  await sleep(Math.min(config.SHUTDOWN_GRACE_MS, clock.left(tail)));
  const drained = clock.step('drain', config.SHUTDOWN_DRAIN_MS, ({ budgetMs }) => drainListeners(s.listeners, budgetMs, logger), tail);
  await Promise.all([hook, drained]);
  await clock.step('close clients, watchers and stores', Infinity, () => closeResources(resources), tail / 2);
  await clock.step('flush traces', Infinity, () => s.tracing.shutdown());
  logger.info('stopped');
}

interface Listeners {
  server: Server;
  port: number;
  admin?: Server;
  adminPort?: number;
  inFlight: ReturnType<typeof trackInFlight>;
}

async function openListeners(
  spec: ServiceSpec<z.ZodRawShape>,
  config: PlatformConfig,
  parts: ServiceParts,
  resources: ContextResources<unknown>,
  state: HealthState,
  logger: Logger,
): Promise<Listeners> {
  const serviceId = () => resources.ctx.serviceId();
  const separateAdmin = spec.adminPort !== undefined;
  const app = createApp({
    logger,
    serviceId,
    probes: resources.probes,
    state,
    routes: parts.routes,
    platformRoutes: !separateAdmin,
    jsonLimit: spec.jsonLimit,
    parseJson: spec.parseJson ?? true,
  });
  const envelope = { logger, serviceId, state };
  const handler = requestListener(app, { ...envelope, accessLog: config.ACCESS_LOG, trustTraceContext: spec.trustTraceContext, dispatch: parts.dispatch });
  const server = await listen(handler, config.PORT);
  if (parts.upgrade) server.on('upgrade', parts.upgrade);
  const listeners: Listeners = { server, port: (server.address() as AddressInfo).port, inFlight: trackInFlight(server) };
  if (separateAdmin) {
    const adminApp = createAdminApp({ ...envelope, probes: resources.probes });
    const admin = await listen(requestListener(adminApp, envelope), config.ADMIN_PORT ?? spec.adminPort!, config.ADMIN_HOST);
    listeners.admin = admin;
    listeners.adminPort = (admin.address() as AddressInfo).port;
  }
  return listeners;
}

async function drainListeners(listeners: Listeners, budgetMs: number, logger: Logger): Promise<void> {
  // The admin port keeps answering Consul's check (503 draining) until the public one is empty.
  await drain(listeners.server, budgetMs, logger);
  if (listeners.admin) await drain(listeners.admin, 500, logger);
}

async function closeResources(resources: ContextResources<unknown>): Promise<void> {
  await Promise.allSettled(resources.clients.map((c) => c.close()));
  await resources.watchers.stopAll();
  await Promise.allSettled(resources.closers.map((close) => close()));
}

async function waitUntilReady(probes: Record<string, Probe>, logger: Logger, state: HealthState): Promise<void> {
  for (let attempt = 0; !state.draining; attempt++) {
    const { ok, checks } = await runProbes(probes);
    if (ok) return;
    // A connection still being opened is the usual reason at start: ask again soon (25 ms,
    // doubling to 500 ms), and say so only once it takes longer than that.
    if (attempt % 10 === 4) logger.warn({ checks }, 'not ready yet; registering in consul once the probes pass');
    await sleep(Math.min(500, 25 * 2 ** attempt));
  }
}
