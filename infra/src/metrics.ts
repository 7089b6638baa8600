import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The process-wide Prometheus registry and the instruments every service shares. Instruments are
 * module singletons: creating them twice in one process would be a registration error.
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });

/** Upper bounds (seconds) of every latency histogram's buckets; the upstreams view sends them once. */
export const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const httpServerRequests = new Counter({
  name: 'switchyard_http_server_requests_total',
  help: 'Requests served, by route and status code',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [metricsRegistry],
});

export const httpServerDuration = new Histogram({
  name: 'switchyard_http_server_duration_seconds',
  help: 'Time to serve a request, by route',
  labelNames: ['method', 'route'] as const,
  buckets: latencyBuckets,
  registers: [metricsRegistry],
});

export const upstreamRequests = new Counter({
  name: 'switchyard_upstream_requests_total',
  help: 'Calls to an upstream instance, by outcome (ok, client_error, server_error by answer status; timeout, connection_error, cancelled, pool_exhausted, response_too_large; breaker_open)',
  labelNames: ['service', 'instance', 'outcome'] as const,
  registers: [metricsRegistry],
});

export const upstreamDuration = new Histogram({
  name: 'switchyard_upstream_duration_seconds',
  help: 'Latency of attempts on an upstream instance: to the whole answer when buffered, to its headers when streamed or upgraded',
  labelNames: ['service', 'instance'] as const,
  buckets: latencyBuckets,
  registers: [metricsRegistry],
});

export const upstreamRetries = new Counter({
  name: 'switchyard_upstream_retries_total',
  help: 'Attempts retried on another instance, and retries refused by the retry budget',
  labelNames: ['service', 'result'] as const,
  registers: [metricsRegistry],
});

export const noHealthyInstanceCalls = new Counter({
  name: 'switchyard_upstream_no_healthy_instance_total',
  help: 'Calls that found no passing instance with a closed breaker',
  labelNames: ['service'] as const,
  registers: [metricsRegistry],
});

export const upstreamFallbacks = new Counter({
  name: 'switchyard_upstream_fallbacks_total',
  help: 'Calls answered by the caller-supplied fallback',
  labelNames: ['service'] as const,
  registers: [metricsRegistry],
});

export const breakerState = new Gauge({
  name: 'switchyard_upstream_breaker_state',
  help: 'Circuit breaker per upstream instance: 0 closed, 1 half-open, 2 open',
  labelNames: ['service', 'instance'] as const,
  registers: [metricsRegistry],
});

export const healthyInstancesGauge = new Gauge({
  name: 'switchyard_watcher_healthy_instances',
  help: 'Passing instances of a watched service, as last seen in Consul',
  labelNames: ['service'] as const,
  registers: [metricsRegistry],
});

/** Every outcome label of upstreamRequests. */
export const UPSTREAM_OUTCOMES = [
  'ok',
  'client_error',
  'server_error',
  'timeout',
  'connection_error',
  'breaker_open',
  'cancelled',
  'pool_exhausted',
  'response_too_large',
];

/**
 * Drops the series of an upstream instance that left the passing list. Instances come and go
 * with ephemeral ports, so keeping every one would grow the registry without bound.
 */
export function forgetUpstreamInstance(service: string, instance: string): void {
  for (const outcome of UPSTREAM_OUTCOMES) upstreamRequests.remove({ service, instance, outcome });
  upstreamDuration.remove({ service, instance });
}
