import type { Logger } from 'pino';
import type { Balancer } from '../balancer/index.js';
import { noHealthyInstanceCalls, upstreamRetries } from '../metrics.js';
import type { Instance } from '../sd/instance.js';
import type { Instancer } from '../sd/instancer.js';
import type { AttemptLimits } from './attempt-clock.js';
import { runAttempt, type AttemptSpec, type Consume, type Exchange } from './attempt.js';
import {
  AttemptFailure,
  NoHealthyInstance,
  PoolExhausted,
  RequestCancelled,
  ResponseTooLarge,
  UpstreamError,
  UpstreamTimeout,
  UpstreamUnavailable,
} from './errors.js';
import type { InstanceEntry, InstanceState } from './instance-state.js';
import type { RetryBudget } from './retry-budget.js';
import type { RetryPolicy } from './retry-policy.js';
import type { HttpRequest } from './transport.js';

/** What a client brings to every call: its instances, their state, its balancer and retry budget. */
export interface CallSite {
  service: string;
  instancer: Instancer;
  state: InstanceState;
  balancer: Balancer;
  budget: RetryBudget;
  logger?: Logger;
}

/**
 * Sends one attempt's request to the instance with the attempt's own headers (the call's, plus
 * its trace context); resolves once the answer's headers arrived.
 */
export type Opener<E extends Exchange> = (
  target: InstanceEntry,
  limits: AttemptLimits,
  request: HttpRequest,
  headers: Record<string, string>,
) => Promise<E>;

/** One call: what to send, within which limits, and how to send and consume one attempt. */
export interface CallPlan<E extends Exchange, T> extends HttpRequest {
  headers: Record<string, string>;
  idempotent: boolean;
  policy: RetryPolicy;
  maxAttempts: number;
  attemptTimeoutMs: number;
  poolTimeoutMs: number;
  /** Epoch ms past which no attempt starts or continues. */
  deadline: number;
  open: Opener<E>;
  consume: Consume<E, T>;
}

/**
 * The retry loop (go-kit's lb.Retry): pick an instance not tried yet and not ejected, attempt,
 * and let the plan's policy decide after each outcome whether another instance is tried, within
 * `maxAttempts`, the retry budget and the deadline. Throws an UpstreamError when no answer came.
 */
export async function callWithRetries<E extends Exchange, T>(site: CallSite, plan: CallPlan<E, T>): Promise<{ value: T; instance: Instance }> {
  // Instance ids tried so far: a short list, made with the first attempt.
  const tried: string[] = [];
  let lastFailure: AttemptFailure | undefined;
  let attempts = 0;
  site.budget.recordRequest();

  while (attempts < plan.maxAttempts) {
    if (plan.signal?.aborted) throw new RequestCancelled(site.service, `the call to ${site.service} was cancelled`);
    if (plan.deadline - Date.now() <= 0) break;
    const instance = choose(site, tried);
    if (!instance) {
      if (lastFailure) break;
      noHealthyInstanceCalls.inc({ service: site.service });
      throw noHealthyInstance(site);
    }
    tried.push(instance.id);
    attempts += 1;
    const result = await runAttempt(new CallAttempt(site, plan, site.state.entry(instance), attempts, tried), plan.consume);
    switch (result.kind) {
      case 'answered':
        return { value: result.value, instance };
      case 'breaker_open':
        // It opened between choose() and the attempt: nothing was sent, pick another one.
        attempts -= 1;
        continue;
      case 'retry':
        lastFailure = result.reason;
        site.logger?.debug({ upstream: site.service, instance: instance.id, err: result.reason.message }, 'retrying on another instance');
        continue;
      case 'failed':
        throw giveUp(site.service, result.failure, plan.deadline);
    }
  }
  throw giveUp(site.service, lastFailure, plan.deadline);
}

/**
 * One attempt of a call: what runAttempt needs (the spec, how to send it) and the attempt's
 * limits, in one object of a class. An object literal with a method and an arrow for `open`
 * made two closures per attempt, and the limits a third object.
 */
class CallAttempt<E extends Exchange, T> implements AttemptSpec<E>, AttemptLimits {
  readonly service: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly idempotent: boolean;
  readonly policy: RetryPolicy;
  readonly state: InstanceState;
  readonly poolTimeoutMs: number;
  readonly timeoutMs: number;
  readonly deadline: number;
  readonly evidenceAfterMs: number;

  constructor(
    private readonly site: CallSite,
    private readonly plan: CallPlan<E, T>,
    readonly entry: InstanceEntry,
    readonly number: number,
    private readonly tried: readonly string[],
  ) {
    this.service = site.service;
    this.method = plan.method;
    this.path = plan.path;
    this.headers = plan.headers;
    this.idempotent = plan.idempotent;
    this.policy = plan.policy;
    this.state = site.state;
    this.poolTimeoutMs = plan.poolTimeoutMs;
    this.timeoutMs = plan.attemptTimeoutMs;
    this.deadline = plan.deadline;
    this.evidenceAfterMs = plan.attemptTimeoutMs / 2;
  }

  claimRetry(): boolean {
    return claimRetry(this.site, this.plan, this.number, this.tried);
  }

  open(headers: Record<string, string>): Promise<E> {
    return this.plan.open(this.entry, this, this.plan, headers);
  }
}

/** Takes a retry if the call may have one: attempts left, time left, an instance left, budget left. */
function claimRetry(
  site: CallSite,
  plan: Pick<CallPlan<Exchange, unknown>, 'maxAttempts' | 'deadline'>,
  attempt: number,
  tried: readonly string[],
): boolean {
  if (attempt >= plan.maxAttempts || plan.deadline - Date.now() <= 0 || !choose(site, tried, false)) return false;
  if (!site.budget.tryAcquire()) {
    upstreamRetries.inc({ service: site.service, result: 'refused_by_budget' });
    return false;
  }
  upstreamRetries.inc({ service: site.service, result: 'retried' });
  return true;
}

/** A passing instance not tried yet and not ejected, chosen by the balancer (or just any, to check one exists). */
function choose(site: CallSite, tried: readonly string[], pick = true): Instance | undefined {
  const passing = site.instancer.instances();
  // Usually every passing instance is a candidate: then the list is handed over as it is,
  // without a filtered copy per call.
  let excluded = false;
  for (const instance of passing) {
    if (tried.includes(instance.id) || site.state.isEjected(instance.id)) {
      excluded = true;
      break;
    }
  }
  const candidates = excluded ? passing.filter((i) => !tried.includes(i.id) && !site.state.isEjected(i.id)) : passing;
  return pick ? site.balancer.pick(candidates) : candidates[0];
}

function noHealthyInstance(site: CallSite): NoHealthyInstance {
  const passing = site.instancer.instances();
  const consulAnswered = site.instancer.lastSyncAt > 0;
  let reason: string;
  if (passing.length === 0 && !consulAnswered) reason = `no instance of ${site.service} known yet: Consul has not answered this process`;
  else if (passing.length === 0) reason = `no passing instance of ${site.service} in Consul`;
  else reason = `every instance of ${site.service} is ejected by its circuit breaker (${passing.length} passing in Consul)`;
  return new NoHealthyInstance(site.service, reason, passing.length, consulAnswered);
}

/** The UpstreamError a call ends with when no answer came, named after its last failure. */
function giveUp(service: string, lastFailure: AttemptFailure | undefined, deadline: number): UpstreamError {
  if (!lastFailure) return new UpstreamTimeout(service, `${service} did not answer before the deadline`);
  const options = { cause: lastFailure };
  switch (lastFailure.kind) {
    case 'cancelled':
      return new RequestCancelled(service, lastFailure.message, options);
    case 'pool_exhausted':
      return new PoolExhausted(service, `${service}: ${lastFailure.message}`, options);
    case 'response_too_large':
      return new ResponseTooLarge(service, lastFailure.message, options);
  }
  if (lastFailure.kind === 'timeout' || Date.now() >= deadline) return new UpstreamTimeout(service, lastFailure.message, options);
  return new UpstreamUnavailable(service, `${service} unavailable: ${lastFailure.message}`, options);
}
