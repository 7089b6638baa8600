/**
 * The public surface of @switchyard/infra: what services may import. Modelled on go-kit's
 * sd + sd/lb: registrar → watcher → balancer → client, plus server bootstrap, tracing, metrics.
 */
export { loadConfig, ConfigError, baseConfigShape, type BaseConfig } from './config.js';
export { createLogger, type Logger } from './logger.js';
export { backoffDelay, sleep, type BackoffOptions } from './backoff.js';
export { nextIndex, isNewIndex } from './consul/blocking-index.js';
export { consulConnection, createConsulClient, type ConsulClient, type ConsulConnection } from './consul/client.js';
export { instanceOrigin, type Instance } from './sd/instance.js';
export { FixedInstancer, type Instancer, type InstancesListener } from './sd/instancer.js';
export { Registrar, type Registration, type RegistrarOptions } from './consul/registrar.js';
export { Watcher, type WatcherOptions } from './consul/watcher.js';
export { WatcherRegistry } from './sd/watcher-registry.js';
export { createBalancer, powerOfTwoChoices, randomChoice, roundRobin, type Balancer, type BalancerName, type LoadOf } from './balancer/index.js';
export {
  ServiceClient,
  DEFAULT_MAX_RESPONSE_BYTES,
  type Fallback,
  type ServiceClientOptions,
  type ServiceRequest,
  type ServiceResponse,
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
export { type RawResponse, type ResponseHeaders } from './client/transport.js';
export {
  defaultRetryPolicy,
  statusRetryPolicy,
  type AttemptReport,
  type InstanceEvidence,
  type RetryPolicy,
  type StatusPolicyOptions,
  type Verdict,
} from './client/retry-policy.js';
export { RetryBudget, defaultRetryBudget, type RetryBudgetOptions } from './client/retry-budget.js';
export { defaultBreakerOptions, type BreakerOptions } from './client/breakers.js';
export { HttpError, badRequest, notFound } from './server/http-error.js';
export { toErrorResponse } from './server/error-handler.js';
export { abortWhenClientLeaves } from './server/client-gone.js';
export type { Probe } from './server/health.js';
export { type ServiceContext } from './server/context.js';
export { StartAborted, startService } from './server/lifecycle.js';
export { runService } from './server/run-service.js';
export { type RunningService, type ServiceParts, type ServiceSpec, type ShutdownBudget } from './server/service-spec.js';
export { createMysqlPool, createRedis } from './stores.js';
export { ATTR_UPSTREAM_INSTANCE, injectTraceHeaders, startTracing, tracer, withSpan } from './tracing.js';
export { metricsRegistry } from './metrics.js';
// Services register their own instruments in the shared registry with these.
export { Counter, Gauge, Histogram } from 'prom-client';
export { default as express, type Router, type Request, type Response, type NextFunction } from 'express';
export { z } from 'zod';
