import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, isSpanContextValid, propagation, trace, type Context, type Link } from '@opentelemetry/api';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { httpServerDuration, httpServerRequests } from '../metrics.js';
import { tracer } from '../tracing.js';
import type { HealthState } from './health.js';

const QUIET_PATHS = new Set(['/health/live', '/health/ready', '/metrics']);

/**
 * Stamps every response with the instance's Consul id (`x-served-by`) and a request id, and asks
 * keep-alive clients to reconnect elsewhere once shutdown has begun.
 */
export function identityHeaders(serviceId: () => string, state: HealthState): RequestHandler {
  return (req, res, next) => {
    const requestId = headerValue(req.headers['x-request-id']) ?? randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('x-served-by', serviceId());
    res.setHeader('x-request-id', requestId);
    if (state.draining) res.setHeader('connection', 'close');
    next();
  };
}

/** Whether a request's trace context (and baggage) may be continued; see ServiceSpec.trustTraceContext. */
export type TrustTraceContext = (req: IncomingMessage) => boolean;

/**
 * One server span per request, and the rest of the request runs inside it so outgoing calls become
 * children. A trusted caller's trace is continued (W3C `traceparent` or Jaeger's `uber-trace-id`,
 * with its baggage); `trustTraceContext` undefined trusts every caller (internal services).
 */
export function serverSpans(trustTraceContext?: TrustTraceContext): RequestHandler {
  return (req, res, next) => {
    if (QUIET_PATHS.has(req.path)) return next();
    const { parent, links } = traceOrigin(req, trustTraceContext);
    const span = tracer().startSpan(
      `${req.method} ${req.path}`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': req.method, 'url.path': req.path, 'http.request_id': String(res.locals.requestId) },
        links,
      },
      parent,
    );
    res.on('close', () => {
      const route = routeOf(req);
      if (route) {
        span.updateName(`${req.method} ${route}`);
        span.setAttribute('http.route', route);
      }
      if (!res.writableFinished) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: 'client closed the request before the answer' });
      } else {
        span.setAttribute('http.response.status_code', res.statusCode);
        if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    });
    context.with(trace.setSpan(parent, span), next);
  };
}

/**
 * Where a request's span starts. A trusted caller's context is continued: its trace, sampling
 * decision and baggage. Anyone else gets a new trace with no baggage, so a client can neither
 * choose our trace ids and sampling nor push baggage through every service behind the edge; its
 * trace, when it sent a valid one, is kept as a link for correlation, never as the parent.
 */
function traceOrigin(req: IncomingMessage, trust: TrustTraceContext | undefined): { parent: Context; links: Link[] } {
  const extracted = propagation.extract(ROOT_CONTEXT, req.headers);
  if (!trust || trust(req)) return { parent: extracted, links: [] };
  const caller = trace.getSpanContext(extracted);
  return { parent: ROOT_CONTEXT, links: caller && isSpanContextValid(caller) ? [{ context: caller }] : [] };
}

/** Access log and the request metrics. Health and metrics scrapes log at debug to keep logs readable. */
export function accessLog(logger: Logger, enabled = true): RequestHandler {
  // The line holds only fields built here (no header, no query, no body), so the logger's
  // redaction (21 paths checked on every line: ~5 µs of the gateway's ~200 µs hop) is skipped for
  // it. Made at the first request, once the logger carries the instance's serviceId binding.
  let lines: Logger | undefined;
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    // 'close' without 'finish': the client left before the answer (recorded as 499, as nginx does).
    res.on('close', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const status = res.writableFinished ? res.statusCode : 499;
      // Never the raw path as a label: every unrouted request would mint a new metric series.
      const route = routeOf(req) ?? 'unmatched';
      httpServerRequests.inc({ method: req.method, route, status: String(status) });
      httpServerDuration.observe({ method: req.method, route }, seconds);
      // The path without its query string: queries may carry tokens.
      const line = { method: req.method, path: req.originalUrl.split('?')[0], status, ms: Math.round(seconds * 1000), requestId: res.locals.requestId };
      lines ??= logger.child({}, { redact: { paths: [] } });
      if (!enabled || QUIET_PATHS.has(req.path)) lines.debug(line, 'request');
      else lines.info(line, 'request');
    });
    next();
  };
}

function routeOf(req: Parameters<RequestHandler>[0]): string | undefined {
  const path = (req.route as { path?: string } | undefined)?.path;
  return path === undefined ? undefined : `${req.baseUrl}${path}`;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  // Only short, printable ids are echoed back; anything else is replaced.
  return first && /^[\w.:-]{1,128}$/.test(first) ? first : undefined;
}
