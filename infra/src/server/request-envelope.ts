/**
 * What the platform does around every request a service answers, in one place and without a
 * framework: identity headers (`x-served-by`, a request id, `connection: close` while draining;
 * set through the record, RequestRecord.identify), one server span whose context the request is
 * served in, then at the end the access-log line and the request metrics. It runs in the listener
 * itself, before express or a service's own dispatch: the gateway's hot path answers without
 * entering express at all (ServiceParts.dispatch), and both paths get the same envelope. One `close` listener per request does all the
 * bookkeeping; a request costs one record and one closure here.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { INVALID_TRACEID, ROOT_CONTEXT, SpanKind, SpanStatusCode, context, isSpanContextValid, propagation, trace, type Context, type Link, type Span } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { startRootSpan, tracer } from '../tracing.js';
import { AccessLog } from './access-log.js';
import type { HealthState } from './health.js';
import { recordServerRequest } from './request-metrics.js';

/** What the platform knows of one request; a dispatch and express read it, the envelope reports it. */
export interface RequestRecord {
  /** The client's `x-request-id` when it is a short printable id, otherwise a new UUID. */
  readonly requestId: string;
  /** The route template that served it (`/api/v1/rng/:n`): names the span, labels the metrics. */
  route: string | undefined;
  /** The context to serve the request in: carries its server span, when it has one. */
  readonly context: Context;
  /**
   * Sets the identity headers on the answer: `x-served-by`, `x-request-id`, and `connection:
   * close` while the instance drains. Called before express serves a request; a dispatch that
   * takes one calls it (or identityHeaderPairs) before it answers, not before its upstream call:
   * these headers are not on the path to the upstream.
   */
  identify(res: ServerResponse): void;
  /**
   * The same identity headers as name, value pairs appended to `into`, `servedBy` as
   * `x-served-by`: for a dispatch that writes its answer's header block in one `res.writeHead`
   * with a flat list, rather than header by header (the gateway's proxy, for an upstream's answer).
   */
  identityHeaderPairs(into: string[], servedBy: string): void;
}

/** What every record of one envelope shares. */
interface Identity {
  serviceId: () => string;
  state: HealthState;
}

/** One object per request: its identify() is a method, not a closure made per request. */
class EnvelopeRecord implements RequestRecord {
  route: string | undefined = undefined;

  constructor(
    readonly requestId: string,
    readonly context: Context,
    private readonly identity: Identity,
  ) {}

  identify(res: ServerResponse): void {
    res.setHeader('x-served-by', this.identity.serviceId());
    res.setHeader('x-request-id', this.requestId);
    if (this.identity.state.draining) res.setHeader('connection', 'close');
  }

  identityHeaderPairs(into: string[], servedBy: string): void {
    into.push('x-served-by', servedBy, 'x-request-id', this.requestId);
    if (this.identity.state.draining) into.push('connection', 'close');
  }
}

/** Whether a request's trace context (and baggage) may be continued; see ServiceSpec.trustTraceContext. */
export type TrustTraceContext = (req: IncomingMessage) => boolean;

export interface EnvelopeOptions {
  logger: Logger;
  serviceId: () => string;
  state: HealthState;
  /** false: access lines at debug level (the metrics are still recorded). */
  accessLog?: boolean;
  /** undefined trusts every caller (internal services); see ServiceSpec.trustTraceContext. */
  trustTraceContext?: TrustTraceContext;
  /** The route of a request no dispatch named (express's matched route, read once it answered). */
  routeOf?: (req: IncomingMessage) => string | undefined;
}

/**
 * Probes and scrapes: no span (Consul's check and Prometheus would bury the traffic in traces),
 * access line at debug. `/metrics/upstreams`, polled every second by the balancing page of every
 * instance, gets no span, no line and no metric at all.
 */
const QUIET_PATHS = new Set(['/health/live', '/health/ready', '/metrics']);
const UNTRACKED_PATHS = new Set(['/metrics/upstreams']);

/**
 * Where a response carries its record: a symbol property rather than a WeakMap, whose entries (one
 * per request) the garbage collector must trace as ephemerons.
 */
const RECORD = Symbol('switchyard.requestRecord');
type Recorded = ServerResponse & { [RECORD]?: RequestRecord };

/** The record of a request the envelope took (express middleware and handlers reach it through the response). */
export function requestRecordOf(res: ServerResponse): RequestRecord | undefined {
  return (res as Recorded)[RECORD];
}

/** The path part of a request target, without its query string (queries may carry secrets). */
export function pathOf(req: IncomingMessage): string {
  const target = req.url ?? '/';
  const at = target.indexOf('?');
  return at === -1 ? target : target.slice(0, at);
}

export function requestEnvelope(options: EnvelopeOptions): (req: IncomingMessage, res: ServerResponse) => RequestRecord {
  // The line holds only fields built here (no header, no query, no body), so the logger's
  // redaction (21 paths checked on every line) is skipped for it. Made at the first request, once
  // the logger carries the instance's serviceId binding.
  let lines: AccessLog | undefined;
  let carriers: string[] | undefined;
  const logAtInfo = options.accessLog ?? true;
  const identity: Identity = { serviceId: options.serviceId, state: options.state };

  const finish = (req: IncomingMessage, res: ServerResponse, record: RequestRecord, path: string, started: number, span: Span | undefined) => {
    const seconds = (performance.now() - started) / 1_000;
    // 'close' without a finished answer: the client left first (recorded as 499, as nginx does).
    const answered = res.writableFinished;
    const status = answered ? res.statusCode : 499;
    const route = record.route ?? options.routeOf?.(req);
    const method = req.method ?? 'GET';
    if (span) {
      if (route) {
        span.updateName(`${method} ${route}`);
        span.setAttribute('http.route', route);
      }
      if (!answered) span.setStatus({ code: SpanStatusCode.ERROR, message: 'client closed the request before the answer' });
      else {
        span.setAttribute('http.response.status_code', status);
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    }
    // Never the raw path as a label: every unrouted request would mint a new metric series.
    const label = route ?? 'unmatched';
    recordServerRequest(method, label, status, seconds);
    lines ??= new AccessLog(options.logger.child({}, { redact: { paths: [] } }));
    const line = { method, path, status, ms: Math.round(seconds * 1_000), requestId: record.requestId };
    lines.write(logAtInfo && !QUIET_PATHS.has(path) ? 'info' : 'debug', line);
  };

  return (req, res) => {
    const requestId = printableId(req.headers['x-request-id']) ?? randomUUID();
    const path = pathOf(req);
    if (UNTRACKED_PATHS.has(path)) {
      const record = new EnvelopeRecord(requestId, context.active(), identity);
      (res as Recorded)[RECORD] = record;
      return record;
    }
    const started = performance.now();
    let span: Span | undefined;
    let served = context.active();
    if (!QUIET_PATHS.has(path)) {
      // The header names the registered propagators read, asked once they are registered (tracing
      // starts once the listener is up, and the call copies the list: not on every request).
      if (!carriers?.length) carriers = propagation.fields().map((name) => name.toLowerCase());
      const { parent, links } = traceOrigin(req, options.trustTraceContext, carriers);
      const name = `${req.method} ${path}`;
      // A request that begins a trace (the edge's, mostly) takes the quicker root path.
      span = parent === ROOT_CONTEXT ? startRootSpan(name, SpanKind.SERVER, links) : tracer().startSpan(name, { kind: SpanKind.SERVER, links }, parent);
      // Attributes only for a span that records them (1 % of requests with the production
      // sampler): a dropped span's would be copied and checked for nothing.
      if (span.isRecording()) span.setAttributes({ 'http.request.method': req.method, 'url.path': path, 'http.request_id': requestId });
      // A span with no valid context (tracing off: the API's no-op) adds nothing to `parent`: no
      // context of its own (a copied Map) is made for it then.
      if (span.spanContext().traceId !== INVALID_TRACEID) served = trace.setSpan(parent, span);
      else served = parent;
    }
    const record = new EnvelopeRecord(requestId, served, identity);
    (res as Recorded)[RECORD] = record;
    // 'on', not 'once': a response closes once, and once() wraps each listener in a bound function.
    res.on('close', () => finish(req, res, record, path, started, span));
    return record;
  };
}

/**
 * Where a request's span starts. A trusted caller's context is continued: its trace, sampling
 * decision and baggage. Anyone else gets a new trace with no baggage, so a client can neither
 * choose our trace ids and sampling nor push baggage through every service behind the edge; its
 * trace, when it sent a valid one, is kept as a link for correlation, never as the parent.
 */
function traceOrigin(req: IncomingMessage, trust: TrustTraceContext | undefined, carriers: readonly string[]): { parent: Context; links: Link[] } {
  if (!trust || trust(req)) return { parent: propagation.extract(ROOT_CONTEXT, req.headers), links: [] };
  // Of an untrusted caller's context only its span context is kept (as a link): when it sent none
  // of the propagators' headers there is nothing to extract. Most requests at the edge send none,
  // and extracting costs every propagator's lookups (Jaeger's lists every header name, for baggage).
  if (!carriesAny(req.headers, carriers)) return { parent: ROOT_CONTEXT, links: [] };
  const caller = trace.getSpanContext(propagation.extract(ROOT_CONTEXT, req.headers));
  return { parent: ROOT_CONTEXT, links: caller && isSpanContextValid(caller) ? [{ context: caller }] : [] };
}

function carriesAny(headers: IncomingMessage['headers'], names: readonly string[]): boolean {
  for (let i = 0; i < names.length; i++) if (headers[names[i]!] !== undefined) return true;
  return false;
}

/** Only short, printable ids are echoed back; anything else is replaced. */
function printableId(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first && /^[\w.:-]{1,128}$/.test(first) ? first : undefined;
}
