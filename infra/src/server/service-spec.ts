import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Router } from 'express';
import type { z } from 'zod';
import type { Dispatch } from './app.js';
import type { ServiceContext } from './context.js';
import type { Probe } from './health.js';

/** What a stop hook gets: a budget (part of SHUTDOWN_TIMEOUT_MS) and a signal that fires when it is spent. */
export interface ShutdownBudget {
  /** Aborts once `budgetMs` has passed: stop waiting, the shutdown goes on without you. */
  signal: AbortSignal;
  budgetMs: number;
}

/** The parts a service plugs into the platform's server. */
export interface ServiceParts {
  routes: (router: Router) => void;
  /**
   * Takes requests ahead of the express routes, for a hot path that must not pay express's
   * per-request layers (the gateway's route table). It runs inside the platform's envelope
   * (identity headers, server span, access log and metrics are in place; set record.route so they
   * name the route), answers every request it takes, errors included (respondWithError), and
   * returns false to leave a request to the express routes.
   */
  dispatch?: Dispatch;
  /** Extra readiness checks beyond the stores the service uses. */
  probes?: Record<string, Probe>;
  /**
   * Readiness probes (by name) of what the service keeps answering without, degraded: `redis`
   * (ctx.redis()) when Redis is only a cache or a counter to it, `redisEvents` (ctx.events()) when
   * live events are a bonus over what the store answers. They still run and show in /health/ready
   * (`degraded: <why>`), but their failure leaves the instance ready. Every instance shares such
   * a store and fails the probe at the same moment: marking each unready would take the whole
   * service out of Consul, turning "no cache, no live events" into "no service" (503 on every
   * route, including those that never touch the store).
   */
  degradedWithout?: readonly string[];
  /**
   * Handles HTTP upgrade requests (WebSocket): the gateway relays them to an upstream. Without
   * it, Node closes any upgrade request's connection.
   */
  upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** Starts background work once the instance listens (e.g. the worker's loop). */
  onStarted?: () => void | Promise<void>;
  /**
   * Finishes background work (e.g. flushes counts) after deregistration, alongside the drain of
   * in-flight requests and before the stores close. Outgoing work should already have stopped
   * starting new calls when `ctx.shuttingDown` aborted. Overrunning the budget is logged and the
   * shutdown goes on, so the drain and the trace flush are never skipped.
   */
  onShutdown?: (budget: ShutdownBudget) => void | Promise<void>;
}

export interface ServiceSpec<E extends z.ZodRawShape> {
  /** Consul service name. */
  name: string;
  config?: E;
  tags?: string[];
  /** Port when PORT is unset (gateway 8080, webui 8000); everything else takes an ephemeral one. */
  defaultPort?: number;
  /**
   * Serve /health/* and /metrics on a separate admin listener (ADMIN_HOST:ADMIN_PORT, loopback by
   * default) instead of the public port: for the internet-facing gateway. Consul's check then
   * polls the admin port. The number is the ADMIN_PORT used when the variable is unset.
   */
  adminPort?: number;
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
  /** The admin listener's port when the spec asked for one. */
  adminPort?: number;
  server: Server;
  /** Stop outgoing work → deregister → grace → drain ∥ stop hook → close → flush traces (no exit). */
  shutdown(): Promise<void>;
  /** Upper bound runService allows shutdown() before it exits anyway. */
  maxShutdownMs: number;
}
