import { INVALID_TRACEID, SpanKind, SpanStatusCode, TraceFlags, context, trace, type Span } from '@opentelemetry/api';
import type { UpstreamOutcome } from '../metrics.js';
import type { Instance } from '../sd/instance.js';
import { ATTR_UPSTREAM_INSTANCE, injectTraceHeaders, tracer, unsampledParentsStayUnsampled } from '../tracing.js';
import { AttemptFailure } from './errors.js';
import type { InstanceEntry, InstanceState } from './instance-state.js';
import type { InstanceEvidence, RetryPolicy } from './retry-policy.js';
import type { ResponseHeaders } from './transport.js';

/** An instance's answer as far as it arrived: enough for the retry policy to judge it. */
export interface Exchange {
  status: number;
  headers: ResponseHeaders;
  /** Drops the answer because another instance will be tried. */
  discard(): Promise<void>;
  /** The AttemptFailure an error met while consuming this answer stands for. */
  classify(error: unknown): AttemptFailure;
}

export interface AttemptSpec<E extends Exchange = Exchange> {
  service: string;
  /** The instance, with what this caller keeps about it (in-flight count, metric series). */
  entry: InstanceEntry;
  method: string;
  /** Path and query as sent; traces get the path alone (a query may carry secrets). */
  path: string;
  headers: Record<string, string>;
  /** 1 for the first attempt of the call. */
  number: number;
  idempotent: boolean;
  policy: RetryPolicy;
  state: InstanceState;
  /**
   * Takes one retry from the call's allowance (attempts left, retry budget, deadline, an untried
   * instance). False: this attempt's outcome is the call's, even if the policy wanted another try.
   */
  claimRetry(): boolean;
  /** Sends the request (with the attempt's trace headers) and resolves once the answer's headers arrived. */
  open(headers: Record<string, string>): Promise<E>;
}

export type AttemptResult<T> =
  /** The answer the caller gets (whatever its status). */
  | { kind: 'answered'; value: T }
  /** Another instance is to be tried; the retry is already claimed. */
  | { kind: 'retry'; reason: AttemptFailure }
  /** The call ends with this failure. */
  | { kind: 'failed'; failure: AttemptFailure }
  /** The instance's breaker opened before the attempt could start: nothing was sent. */
  | { kind: 'breaker_open' };

/**
 * Turns the final answer into the caller's value: reads its body, or hands the body (or the
 * upgraded connection) over. The attempt's span and in-flight count end when this resolves,
 * unless it calls `endLater`: then they end when the function `endLater` returned is called
 * (when the caller's stream or connection closes).
 */
export type Consume<E extends Exchange, T> = (exchange: E, endLater: () => (error?: Error) => void) => T | Promise<T>;

const BREAKER_OPEN = Object.freeze({ kind: 'breaker_open' as const });

/**
 * One attempt on one instance, through its breaker: the retry policy's verdict on the outcome
 * decides what happens next and what evidence the breaker records. Nothing is sent (and no span
 * recorded) when the breaker opened before the attempt could start.
 */
export async function runAttempt<E extends Exchange, T>(spec: AttemptSpec<E>, consume: Consume<E, T>): Promise<AttemptResult<T>> {
  const attempt = new JudgedAttempt(spec, consume);
  const ran = await spec.state.throughBreaker(spec.entry.instance.id, attempt);
  if (!ran) spec.entry.metrics.count('breaker_open');
  return attempt.result;
}

/**
 * What the breaker runs for one attempt: send, judge the outcome by the retry policy, consume the
 * answer; `result` tells the retry loop what happened, run()'s value is the breaker's evidence.
 * An object the breaker calls run() on, in one async function: a closure for the breaker and a
 * second async function for the judging cost an extra promise and frame on every call.
 */
class JudgedAttempt<E extends Exchange, T> {
  /** Stays BREAKER_OPEN when the breaker did not let the attempt run. */
  result: AttemptResult<T> = BREAKER_OPEN;

  constructor(
    private readonly spec: AttemptSpec<E>,
    private readonly consume: Consume<E, T>,
  ) {}

  async run(): Promise<InstanceEvidence> {
    const { spec } = this;
    const record = new AttemptRecord(spec);
    try {
      let exchange: E;
      try {
        exchange = await spec.open(record.headers);
      } catch (error) {
        return this.failed(record, asAttemptFailure(error, spec.entry.instance));
      }
      const { status } = exchange;
      record.answered(status);
      const verdict = spec.policy({
        attempt: spec.number,
        method: spec.method,
        idempotent: spec.idempotent,
        answer: { status, headers: exchange.headers },
      });
      if (verdict.retry && spec.claimRetry()) {
        await exchange.discard();
        this.result = { kind: 'retry', reason: new AttemptFailure('server_error', `${spec.entry.instance.id} answered ${status}`, false) };
        return verdict.evidence;
      }
      try {
        // A consumer returns T or a promise of it; awaited, it is T (TypeScript says Awaited<T>).
        const value = (await this.consume(exchange, () => record.endLater())) as T;
        this.result = { kind: 'answered', value };
        return verdict.evidence;
      } catch (error) {
        return this.failed(record, error instanceof AttemptFailure ? error : exchange.classify(error));
      }
    } finally {
      record.finish();
    }
  }

  /** The policy's verdict on a failed attempt: retried elsewhere if it says so and a retry is left. */
  private failed(record: AttemptRecord, failure: AttemptFailure): InstanceEvidence {
    const { spec } = this;
    record.failed(failure);
    const verdict = spec.policy({ attempt: spec.number, method: spec.method, idempotent: spec.idempotent, failure });
    // A cancelled call has nobody left to answer: never retried, whatever the policy says.
    const retry = failure.kind !== 'cancelled' && verdict.retry && spec.claimRetry();
    this.result = retry ? { kind: 'retry', reason: failure } : { kind: 'failed', failure };
    return verdict.evidence;
  }
}

/** The traces and metrics of one attempt, and its place in the instance's in-flight count. */
class AttemptRecord {
  readonly headers: Record<string, string>;
  private readonly span: Span;
  private readonly entry: InstanceEntry;
  private readonly startedAt = performance.now();
  private outcome: UpstreamOutcome | undefined;
  private deferred = false;
  private ended = false;

  constructor(spec: AttemptSpec) {
    const { service, entry, method } = spec;
    const { instance } = entry;
    this.entry = entry;
    const active = context.active();
    this.headers = { ...spec.headers };
    const parent = trace.getSpanContext(active);
    if (parent && !(parent.traceFlags & TraceFlags.SAMPLED) && childrenFollowParents) {
      // The sampler would make a non-recording span here: the parent's context travels on as it
      // is (same trace, same decision) without a span id, random bytes and a context of its own.
      this.span = trace.wrapSpanContext(parent);
      injectTraceHeaders(this.headers, active);
    } else {
      this.span = tracer().startSpan(`${method} ${service}`, { kind: SpanKind.CLIENT }, active);
      // Attributes only for a span that records them: a dropped span's would be checked for nothing.
      if (this.span.isRecording()) {
        this.span.setAttributes({
          'peer.service': service,
          [ATTR_UPSTREAM_INSTANCE]: instance.id,
          'server.address': instance.address,
          'server.port': instance.port,
          'http.request.method': method,
          'url.path': pathWithoutQuery(spec.path),
        });
      }
      // A span with no valid context (tracing off, nothing to continue) adds nothing to the headers
      // that the active context does not: no context of its own is made for it then.
      const traced = this.span.spanContext().traceId !== INVALID_TRACEID;
      injectTraceHeaders(this.headers, traced ? trace.setSpan(active, this.span) : active);
    }
    entry.inFlight += 1;
  }

  answered(status: number): void {
    this.span.setAttribute('http.response.status_code', status);
    this.outcome = statusOutcome(status);
  }

  failed(failure: AttemptFailure): void {
    // Also when consuming failed after endLater: nobody holds the answer any more.
    this.deferred = false;
    this.span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
    this.outcome = failure.kind;
  }

  /** The caller keeps the answer's body or connection: the span and in-flight count end with it. */
  endLater(): (error?: Error) => void {
    this.deferred = true;
    return (error) => this.end(error);
  }

  /** The attempt's own part is over: counted, timed (to the answer, or its body when read whole). */
  finish(): void {
    const { metrics } = this.entry;
    metrics.observe((performance.now() - this.startedAt) / 1000);
    metrics.count(this.outcome ?? 'connection_error');
    if (!this.deferred) this.end();
  }

  private end(error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    if (error) this.span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    this.entry.inFlight -= 1;
    this.span.end();
  }
}

/** Read once: the sampler is configured at start (tracing.ts). */
const childrenFollowParents = unsampledParentsStayUnsampled();

function statusOutcome(status: number): 'ok' | 'client_error' | 'server_error' {
  if (status >= 500) return 'server_error';
  return status >= 400 ? 'client_error' : 'ok';
}

function asAttemptFailure(error: unknown, instance: Instance): AttemptFailure {
  if (error instanceof AttemptFailure) return error;
  return new AttemptFailure('connection_error', `${instance.id}: ${(error as Error)?.message ?? String(error)}`, false, { cause: error });
}

/** The path of a request target without its query: what logs and traces may record. */
export function pathWithoutQuery(target: string): string {
  const at = target.indexOf('?');
  return at === -1 ? target : target.slice(0, at);
}
