import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
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

/**
 * One server span per request, continuing the caller's trace (W3C `traceparent` or Jaeger's
 * `uber-trace-id`), and the rest of the request runs inside it so outgoing calls become children.
 */
export function serverSpans(_trustTraceContext?: (req: IncomingMessage) => boolean): RequestHandler {
  return (req, res, next) => {
    if (QUIET_PATHS.has(req.path)) return next();
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer().startSpan(
      `${req.method} ${req.path}`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': req.method, 'url.path': req.path, 'http.request_id': String(res.locals.requestId) },
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

/** Access log and the request metrics. Health and metrics scrapes log at debug to keep logs readable. */
export function accessLog(logger: Logger, enabled = true): RequestHandler {
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
      if (!enabled || QUIET_PATHS.has(req.path)) logger.debug(line, 'request');
      else logger.info(line, 'request');
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
