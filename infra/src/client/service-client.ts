import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { createBalancer, type Balancer, type BalancerName } from '../balancer/index.js';
import type { Instance } from '../sd/instance.js';
import { forgetUpstreamInstance, noHealthyInstanceCalls, upstreamDuration, upstreamFallbacks, upstreamRequests, upstreamRetries } from '../metrics.js';
import { sleep } from '../backoff.js';
import { ATTR_UPSTREAM_INSTANCE, injectTraceHeaders, tracer } from '../tracing.js';
import type { Instancer } from '../sd/instancer.js';
import { InstanceBreakers, defaultBreakerOptions, type BreakerOptions } from './breakers.js';
import {
  AttemptFailure,
  NoHealthyInstance,
  RequestCancelled,
  UpstreamError,
  UpstreamTimeout,
  UpstreamUnavailable,
} from './errors.js';
import { RetryBudget, defaultRetryBudget, type RetryBudgetOptions } from './retry-budget.js';
import { Transport, type RawResponse } from './transport.js';

export interface ServiceRequest {
  method?: string;
  /** Path and query, starting with `/`. */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string | Uint8Array;
  /** Defaults to true for GET, HEAD, OPTIONS, PUT and DELETE; set it for pure POSTs (e.g. hashing). */
  idempotent?: boolean;
  attemptTimeoutMs?: number;
  deadlineMs?: number;
  /** Cancels the call (and any retry), e.g. when the caller's own client disconnected. */
  signal?: AbortSignal;
}

export interface ServiceResponse extends RawResponse {
  /** The instance that answered; undefined when the fallback did. */
  instance?: Instance;
  fromFallback: boolean;
}

export type Fallback = (error: UpstreamError, request: ServiceRequest) => ServiceResponse | Promise<ServiceResponse>;

export interface ServiceClientOptions {
  balancer?: BalancerName | Balancer;
  /** Timeout of one attempt on one instance. */
  attemptTimeoutMs?: number;
  /** Overall time for the call, retries included. */
  deadlineMs?: number;
  /** Attempts per call, each on a different instance when there is one. */
  maxAttempts?: number;
  retryBudget?: RetryBudgetOptions;
  breaker?: Partial<BreakerOptions>;
  /** Answers instead of throwing when no instance could (the paper's "the server does it itself"). */
  fallback?: Fallback;
  /** On a cold start, how long the first call waits for the watcher's first answer. */
  discoveryTimeoutMs?: number;
  logger?: Logger;
}

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/**
 * Calls a named service: watcher (passing instances) → minus open breakers and already-tried
 * instances → balancer → keep-alive HTTP attempt through the instance's breaker → retry on a
 * different instance within the retry budget → optional fallback.
 */
export class ServiceClient {
  private readonly balancer: Balancer;
  private readonly breakers: InstanceBreakers;
  private readonly budget: RetryBudget;
  private readonly transport = new Transport();
  private readonly outstanding = new Map<string, number>();
  private discovery: Promise<unknown> | undefined;
  private readonly unsubscribe: () => void;
  private readonly settings: Required<Pick<ServiceClientOptions, 'attemptTimeoutMs' | 'deadlineMs' | 'maxAttempts' | 'discoveryTimeoutMs'>>;
  private readonly onChange = (instances: readonly Instance[]) => {
    const passing = new Set(instances.map((i) => i.id));
    this.breakers.retain(passing);
    // Forget instances that left (ephemeral ports make every restart a new id), but not while a
    // request to them is still in flight: it will record its outcome when it ends.
    for (const [id, inFlight] of this.outstanding) {
      if (passing.has(id) || inFlight > 0) continue;
      this.outstanding.delete(id);
      forgetUpstreamInstance(this.service, id);
    }
  };

  constructor(
    readonly service: string,
    private readonly watcher: Instancer,
    private readonly options: ServiceClientOptions = {},
  ) {
    const loadOf = (id: string) => this.outstanding.get(id) ?? 0;
    this.balancer =
      typeof options.balancer === 'object' ? options.balancer : createBalancer(options.balancer ?? 'round-robin', loadOf);
    this.breakers = new InstanceBreakers(service, { ...defaultBreakerOptions, ...options.breaker }, options.logger);
    this.budget = new RetryBudget(options.retryBudget ?? defaultRetryBudget);
    this.settings = {
      attemptTimeoutMs: options.attemptTimeoutMs ?? 2_000,
      deadlineMs: options.deadlineMs ?? 5_000,
      maxAttempts: options.maxAttempts ?? 3,
      discoveryTimeoutMs: options.discoveryTimeoutMs ?? 3_000,
    };
    this.unsubscribe = watcher.subscribe(this.onChange);
  }

  /** Passing instances, as the shared watcher last saw them. */
  instances(): readonly Instance[] {
    return this.watcher.instances();
  }

  breakerState(instanceId: string) {
    return this.breakers.state(instanceId);
  }

  get(path: string, init: Omit<ServiceRequest, 'path' | 'method'> = {}): Promise<ServiceResponse> {
    return this.request({ ...init, method: 'GET', path });
  }

  post(path: string, body: ServiceRequest['body'], init: Omit<ServiceRequest, 'path' | 'method' | 'body'> = {}) {
    return this.request({ ...init, method: 'POST', path, body });
  }

  async request(request: ServiceRequest): Promise<ServiceResponse> {
    try {
      return await this.attempts(request);
    } catch (error) {
      if (!(error instanceof UpstreamError) || error instanceof RequestCancelled || !this.options.fallback) throw error;
      const answer = await this.options.fallback(error, request);
      // Counted once the fallback answered: a fallback may decline by rethrowing.
      upstreamFallbacks.inc({ service: this.service });
      return { ...answer, fromFallback: true };
    }
  }

  async close(): Promise<void> {
    this.unsubscribe();
    this.breakers.shutdown();
    await this.transport.close();
  }

  private async attempts(request: ServiceRequest): Promise<ServiceResponse> {
    const method = (request.method ?? 'GET').toUpperCase();
    const idempotent = request.idempotent ?? IDEMPOTENT_METHODS.has(method);
    const deadline = Date.now() + (request.deadlineMs ?? this.settings.deadlineMs);
    if (this.watcher.lastSyncAt === 0 && this.watcher.instances().length === 0) {
      // Cold start: wait (once per client, shared by concurrent calls) for Consul's first answer,
      // never more than half the deadline, so an unreachable Consul yields a prompt 503.
      this.discovery ??= this.watcher.ready(this.settings.discoveryTimeoutMs);
      const cancel = new AbortController();
      const signal = request.signal ? AbortSignal.any([cancel.signal, request.signal]) : cancel.signal;
      await Promise.race([this.discovery, sleep((deadline - Date.now()) / 2, signal)]);
      cancel.abort();
    }
    this.budget.recordRequest();
    const tried = new Set<string>();
    let lastFailure: AttemptFailure | undefined;

    for (let attempt = 1; attempt <= this.settings.maxAttempts; attempt++) {
      if (request.signal?.aborted) throw new RequestCancelled(this.service, `the call to ${this.service} was cancelled`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      const instance = this.choose(tried);
      if (!instance) {
        if (lastFailure) break;
        noHealthyInstanceCalls.inc({ service: this.service });
        throw new NoHealthyInstance(
          this.service,
          this.noInstanceReason(),
          this.watcher.instances().length,
          this.watcher.lastSyncAt > 0,
        );
      }
      tried.add(instance.id);
      try {
        const attemptTimeoutMs = request.attemptTimeoutMs ?? this.settings.attemptTimeoutMs;
        const timeoutMs = Math.min(attemptTimeoutMs, remaining);
        const evidenceAfterMs = attemptTimeoutMs / 2;
        const raw = await this.breakers.fire(instance.id, () =>
          this.send(instance, method, request, { timeoutMs, evidenceAfterMs }),
        );
        return { ...raw, instance, fromFallback: false };
      } catch (error) {
        if (!(error instanceof AttemptFailure)) {
          // opossum rejects at once when the breaker opened between choose() and fire().
          if (isBreakerOpen(error)) {
            upstreamRequests.inc({ service: this.service, instance: instance.id, outcome: 'breaker_open' });
            attempt -= 1;
            continue;
          }
          throw error;
        }
        if (error.kind === 'cancelled') throw new RequestCancelled(this.service, error.message, { cause: error });
        lastFailure = error;
        const retryable = idempotent || error.notDelivered;
        if (!retryable || attempt === this.settings.maxAttempts) break;
        if (!this.budget.tryAcquire()) {
          upstreamRetries.inc({ service: this.service, result: 'refused_by_budget' });
          break;
        }
        upstreamRetries.inc({ service: this.service, result: 'retried' });
        this.options.logger?.debug({ upstream: this.service, instance: instance.id, err: error.message }, 'retrying on another instance');
      }
    }
    return this.giveUp(lastFailure, deadline);
  }

  private giveUp(lastFailure: AttemptFailure | undefined, deadline: number): ServiceResponse {
    // An upstream's own 5xx answer is passed on as is: it carries the upstream's reason.
    if (lastFailure?.response) return { ...lastFailure.response, fromFallback: false };
    if (!lastFailure || lastFailure.kind === 'timeout' || Date.now() >= deadline) {
      throw new UpstreamTimeout(this.service, lastFailure?.message ?? `${this.service} did not answer before the deadline`, {
        cause: lastFailure,
      });
    }
    throw new UpstreamUnavailable(this.service, `${this.service} unavailable: ${lastFailure.message}`, { cause: lastFailure });
  }

  private choose(tried: ReadonlySet<string>): Instance | undefined {
    const passing = this.watcher.instances();
    const untried = passing.filter((i) => !tried.has(i.id) && !this.breakers.isOpen(i.id));
    return this.balancer.pick(untried);
  }

  private noInstanceReason(): string {
    const passing = this.watcher.instances();
    if (passing.length === 0 && this.watcher.lastSyncAt === 0) {
      return `no instance of ${this.service} known yet: Consul has not answered this process`;
    }
    if (passing.length === 0) return `no passing instance of ${this.service} in Consul`;
    return `every instance of ${this.service} is ejected by its circuit breaker (${passing.length} passing in Consul)`;
  }

  private async send(
    instance: Instance,
    method: string,
    request: ServiceRequest,
    limits: { timeoutMs: number; evidenceAfterMs: number },
  ): Promise<RawResponse> {
    const labels = { service: this.service, instance: instance.id };
    const span = tracer().startSpan(
      `${method} ${this.service}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'peer.service': this.service,
          [ATTR_UPSTREAM_INSTANCE]: instance.id,
          'server.address': instance.address,
          'server.port': instance.port,
          'http.request.method': method,
          'url.path': request.path,
        },
      },
      context.active(),
    );
    const headers: Record<string, string> = { ...request.headers };
    injectTraceHeaders(headers, trace.setSpan(context.active(), span));
    this.outstanding.set(instance.id, (this.outstanding.get(instance.id) ?? 0) + 1);
    const stopTimer = upstreamDuration.startTimer(labels);
    try {
      const response = await this.transport.send(instance, {
        method,
        path: request.path,
        headers,
        body: request.body,
        signal: request.signal,
        ...limits,
      });
      span.setAttribute('http.response.status_code', response.status);
      upstreamRequests.inc({ ...labels, outcome: response.status >= 400 ? 'client_error' : 'ok' });
      return response;
    } catch (error) {
      const failure = error as AttemptFailure;
      if (failure.response) span.setAttribute('http.response.status_code', failure.response.status);
      span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
      upstreamRequests.inc({ ...labels, outcome: failure.kind ?? 'connection_error' });
      throw error;
    } finally {
      stopTimer();
      this.outstanding.set(instance.id, (this.outstanding.get(instance.id) ?? 1) - 1);
      span.end();
    }
  }
}

function isBreakerOpen(error: unknown): boolean {
  return (error as { code?: string } | undefined)?.code === 'EOPENBREAKER';
}
