/**
 * `@switchyard/infra/discovery`: the pieces runService assembles, for tools, tests and benchmarks
 * that build discovery by hand (a watcher on a real agent, a registrar for a fake instance, a
 * client over a fixed list). Services use the main entry point instead.
 */
export { consulConnection, createConsulClient, type ConsulClient, type ConsulConnection } from './consul/client.js';
export { Registrar, type Registration, type RegistrarOptions } from './consul/registrar.js';
export { Watcher, type WatcherOptions } from './consul/watcher.js';
export { WatcherRegistry } from './sd/watcher-registry.js';
export { instanceOrigin } from './sd/instance.js';
export { createBalancer, powerOfTwoChoices, randomChoice, roundRobin, type Balancer, type BalancerName, type LoadOf } from './balancer/index.js';
export { RetryBudget, defaultRetryBudget, type RetryBudgetOptions } from './client/retry-budget.js';
export { defaultBreakerOptions, type BreakerOptions } from './client/breakers.js';
export { DEFAULT_MAX_RESPONSE_BYTES } from './client/service-client.js';
export { StartAborted, startService } from './server/lifecycle.js';
export { type RunningService } from './server/service-spec.js';
export { createMysqlPool } from './stores.js';
export { ATTR_UPSTREAM_INSTANCE, injectTraceHeaders, startTracing, tracer } from './tracing.js';
