import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, propagation, trace, type Context } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { pino, type Logger } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { tracePropagator } from '../tracing.js';
import { requestEnvelope, type TrustTraceContext } from './request-envelope.js';

const CLIENT_TRACE = '0af7651916cd43dd8448eb211c80319c';
const CLIENT_SPAN = 'b7ad6b7169203331';
const JAEGER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
beforeAll(() => provider.register({ propagator: tracePropagator() }));
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  propagation.disable();
  context.disable();
});
beforeEach(() => exporter.reset());

/** A request and its answer as the envelope sees them (no socket: trust decides from headers alone here). */
function exchange(url: string, headers: Record<string, string>, status = 200) {
  const req = { method: 'GET', url, headers } as unknown as IncomingMessage;
  const set: Record<string, unknown> = {};
  const res = Object.assign(new EventEmitter(), {
    writableFinished: true,
    statusCode: status,
    setHeader: (name: string, value: unknown) => void (set[name] = value),
  });
  return { req, res: res as unknown as ServerResponse & EventEmitter, set };
}

const silent = pino({ level: 'silent' });

/**
 * Runs the envelope on one request and returns the context the rest of the request ran in, plus
 * the span it ended.
 */
function serve(headers: Record<string, string>, trust?: TrustTraceContext) {
  const { req, res } = exchange('/api/v1/thing', headers);
  const record = requestEnvelope({ logger: silent, serviceId: () => 'svc-1', state: { draining: false } as never, trustTraceContext: trust })(req, res);
  const inside = context.with(record.context, () => context.active());
  res.emit('close');
  const [span] = exporter.getFinishedSpans();
  if (!span) throw new Error('the envelope ended no span');
  return { inside, span, outgoing: outgoingHeaders(inside) };
}

/** The headers a ServiceClient call made inside `ctx` would carry. */
function outgoingHeaders(ctx: Context): Record<string, string> {
  const headers: Record<string, string> = {};
  propagation.inject(ctx, headers);
  return headers;
}

const w3c = { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`, baggage: 'user=mallory,tenant=other' };
const jaeger = { 'uber-trace-id': `${JAEGER_TRACE}:${CLIENT_SPAN}:0:1`, 'uberctx-user': 'mallory' };

describe('request envelope: server spans', () => {
  it('continues every caller trace and baggage when no trust rule is given (internal services)', () => {
    const { span, outgoing } = serve(w3c);
    expect(span.spanContext().traceId).toBe(CLIENT_TRACE);
    expect(span.parentSpanContext?.spanId).toBe(CLIENT_SPAN);
    expect(outgoing.baggage).toContain('user=mallory');
  });

  it('continues a trusted caller trace and baggage', () => {
    const { span, outgoing } = serve(w3c, () => true);
    expect(span.spanContext().traceId).toBe(CLIENT_TRACE);
    expect(span.links).toEqual([]);
    expect(outgoing.traceparent).toContain(CLIENT_TRACE);
    expect(outgoing.baggage).toContain('tenant=other');
  });

  it.each([
    ['W3C', w3c, CLIENT_TRACE],
    ['Jaeger', jaeger, JAEGER_TRACE],
  ])('starts a new trace for an untrusted %s caller, links its trace and drops its baggage', (_format, headers, callerTrace) => {
    const { inside, span, outgoing } = serve(headers, () => false);
    const ours = span.spanContext().traceId;
    expect(ours).not.toBe(callerTrace);
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.links.map((link) => link.context.traceId)).toEqual([callerTrace]);
    expect(span.links[0]!.context.spanId).toBe(CLIENT_SPAN);
    // What calls made while serving the request carry: our trace, and no baggage in any format.
    expect(propagation.getBaggage(inside)).toBeUndefined();
    expect(outgoing.traceparent).toContain(ours);
    expect(outgoing['uber-trace-id']).toContain(ours);
    expect(Object.keys(outgoing).filter((name) => name === 'baggage' || name.startsWith('uberctx-'))).toEqual([]);
  });

  it('starts a new trace without a link when an untrusted caller sent no valid context', () => {
    const { span } = serve({ traceparent: '00-00000000000000000000000000000000-0000000000000000-01' }, () => false);
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.links).toEqual([]);
  });

  it.each([
    ['W3C baggage alone', { baggage: 'user=mallory' }],
    ["Jaeger's baggage alone", { 'uberctx-user': 'mallory' }],
    ['no trace header at all', { accept: 'application/json' }],
  ])('starts a new trace with no link and no baggage for an untrusted caller sending %s', (_what, headers) => {
    const { inside, span, outgoing } = serve(headers, () => false);
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.links).toEqual([]);
    expect(propagation.getBaggage(inside)).toBeUndefined();
    expect(outgoing.traceparent).toContain(span.spanContext().traceId);
    expect(Object.keys(outgoing).filter((name) => name === 'baggage' || name.startsWith('uberctx-'))).toEqual([]);
  });

  it('asks the trust rule about the request itself', () => {
    const asked: IncomingMessage[] = [];
    serve(w3c, (req) => (asked.push(req), false));
    expect(asked).toHaveLength(1);
    expect(asked[0]!.headers.traceparent).toBe(w3c.traceparent);
  });
});

describe('request envelope: access log and identity', () => {
  function logged(url: string, headers: Record<string, string>, status: number, logger?: (lines: Array<Record<string, unknown>>) => Logger) {
    const lines: Array<Record<string, unknown>> = [];
    const base = logger?.(lines) ?? pino({ redact: { paths: ['token', '*.token'], censor: '[redacted]' } }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const envelope = requestEnvelope({ logger: base, serviceId: () => 'gateway-test-1', state: { draining: false } as never });
    base.setBindings({ serviceId: 'gateway-test-1' });
    const { req, res, set } = exchange(url, headers, status);
    const record = envelope(req, res);
    const setByEnvelope = { ...set };
    record.identify(res);
    res.emit('close');
    return { lines, set, setByEnvelope, record };
  }

  it('logs method, the path without its query, status and the serviceId bound after it was made', () => {
    const { lines } = logged('/api/v1/thing?access_token=secret', { 'x-request-id': 'r1' }, 204);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'request', serviceId: 'gateway-test-1', method: 'GET', path: '/api/v1/thing', status: 204, requestId: 'r1' });
    expect(JSON.stringify(lines[0])).not.toContain('secret');
  });

  it('names the instance and echoes a printable request id, replacing anything else', () => {
    const kept = logged('/x', { 'x-request-id': 'abc-123' }, 200);
    expect(kept.set).toMatchObject({ 'x-served-by': 'gateway-test-1', 'x-request-id': 'abc-123' });
    // Set by identify(), when whoever answers asks (app.ts before express, the gateway's dispatch later).
    expect(kept.setByEnvelope).toEqual({});
    const replaced = logged('/x', { 'x-request-id': 'bad id\u0007<script>' }, 200);
    expect(replaced.record.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(replaced.set['x-request-id']).toBe(replaced.record.requestId);
  });

  it('keeps probes at debug and the balancing page\'s polls out of the log', () => {
    expect(logged('/health/ready', {}, 200).lines).toEqual([]);
    expect(logged('/metrics/upstreams', {}, 200).lines).toEqual([]);
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});
