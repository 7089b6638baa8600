/**
 * The public surface of @switchyard/infra for services: run a service (runService), call others
 * (ServiceClient through ctx.client), answer errors, trace and measure. The discovery building
 * blocks underneath (Consul client, registrar, watcher, balancers) are in
 * `@switchyard/infra/discovery`, for tools, tests and benchmarks; services never need them.
 */
export { runService } from './server/run-service.js';
export { type ServiceContext } from './server/context.js';
export { type ServiceParts, type ServiceSpec, type ShutdownBudget } from './server/service-spec.js';
export type { Probe } from './server/health.js';
export { loadConfig, ConfigError, type BaseConfig } from './config.js';
export { createLogger, type Logger } from './logger.js';
export { backoffDelay, sleep, type BackoffOptions } from './backoff.js';
export { type Instance } from './sd/instance.js';
export { FixedInstancer, type Instancer, type InstancesListener } from './sd/instancer.js';
export {
  ServiceClient,
  idempotentByMethod,
  type Fallback,
  type ServiceClientOptions,
  type ServiceRequest,
  type ServiceResponse,
  type RelayedResponse,
  type StreamingResponse,
  type UpgradeResponse,
} from './client/service-client.js';
export {
  NoHealthyInstance,
  PoolExhausted,
  RequestCancelled,
  ResponseTooLarge,
  UpstreamError,
  UpstreamTimeout,
  UpstreamUnavailable,
} from './client/errors.js';
export { type ResponseHeaders } from './client/transport.js';
export { type BodySink, type RelayedBody } from './client/relay-exchange.js';
// undici's agent and request API without its index (client/undici-parts.ts says why).
export { Agent as UndiciAgent, request as undiciRequest } from './client/undici-parts.js';
// rate-limiter-flexible's Redis and memory limiters without its index (rate-limiter-parts.ts says why).
export { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from './rate-limiter-parts.js';
export { defaultRetryPolicy, statusRetryPolicy, type AttemptReport, type InstanceEvidence, type RetryPolicy, type Verdict } from './client/retry-policy.js';
export { HttpError, badRequest, notFound } from './server/http-error.js';
export { respondWithError, sendJson, toErrorResponse } from './server/error-handler.js';
export { type Dispatch } from './server/app.js';
export { pathOf, type RequestRecord } from './server/request-envelope.js';
export { abortWhenClientLeaves } from './server/client-gone.js';
export type { Cancellation, CancellationListener } from './cancellation.js';
export { headerValue } from './header-values.js';
export { createRedis } from './stores.js';
export { execute, fromSqlTime, inTransaction, isDuplicateKey, likePrefix, selectRows, toSqlTime, type Db } from './sql.js';
export {
  ACCESS_TOKEN_ALGORITHM,
  ACCESS_TOKEN_AUDIENCE,
  ACCESS_TOKEN_ISSUER,
  TokenVerifier,
  bearerChallenge,
  bearerToken,
  currentUser,
  requireUser,
  type AuthenticatedUser,
  type JwksSource,
  type TokenVerifierOptions,
} from './auth/index.js';
export {
  ensureDatabase,
  runMigrations,
  MigrationFailed,
  type MigrationLogger,
  type MigrationsResult,
  type RunMigrationsOptions,
} from './migrations/index.js';
export { EventBus, type EventListener, type LiveEvent, type Unsubscribe } from './live/event-bus.js';
export { liveSockets, type LiveSockets, type LiveSocketsOptions } from './live/live-sockets.js';
export { type LiveSession } from './live/session.js';
export { CLOSE as LIVE_CLOSE_CODES, type ClientEvent } from './live/frames.js';
export { ACCESS_TOKEN_PARAM, upgradeAccessToken } from './live/upgrade-token.js';
export { withSpan } from './tracing.js';
export { metricsRegistry } from './metrics.js';
// Services register their own instruments in the shared registry with these.
export { Counter, Gauge, Histogram } from 'prom-client';
export { default as express, type Router, type Request, type Response, type NextFunction } from 'express';
export { z } from 'zod';
