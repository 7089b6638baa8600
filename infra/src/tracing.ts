import { SpanStatusCode, context, propagation, trace, type Span, type TextMapPropagator, type Tracer } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { MySQL2Instrumentation } from '@opentelemetry/instrumentation-mysql2';
import { JaegerPropagator } from '@opentelemetry/propagator-jaeger';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

/** Span attribute naming the Consul service id an attempt was sent to. */
export const ATTR_UPSTREAM_INSTANCE = 'switchyard.upstream.instance_id';
export const ATTR_SERVICE_INSTANCE_ID = 'service.instance.id';

export function tracer(): Tracer {
  return trace.getTracer('switchyard');
}

let instrumentationsRegistered = false;

/**
 * Patches ioredis and mysql2 so their commands become child spans. It must run before either
 * library is first loaded, which is why infra loads them itself (see stores.ts) after this.
 * The instrumentations use the global (proxy) tracer provider, so the real provider may be
 * registered later, once the instance knows its Consul id.
 */
export function registerStoreInstrumentations(): void {
  if (instrumentationsRegistered) return;
  instrumentationsRegistered = true;
  registerInstrumentations({ instrumentations: [new IORedisInstrumentation(), new MySQL2Instrumentation()] });
}

export interface TracingHandle {
  enabled: boolean;
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry SDK: OTLP/HTTP export to Jaeger, `service.name` = the Consul service
 * name, `service.instance.id` = the Consul service id. W3C trace context is the primary format;
 * the Jaeger propagator also reads and writes `uber-trace-id`, so callers still on the archived
 * jaeger-client join the same traces. With no endpoint configured tracing stays a no-op.
 */
export function startTracing(options: {
  serviceName: string;
  instanceId: string;
  version: string;
  endpoint: string;
}): TracingHandle {
  if (!options.endpoint) return { enabled: false, shutdown: async () => {} };

  const exporter = new OTLPTraceExporter({ url: `${options.endpoint.replace(/\/+$/, '')}/v1/traces` });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: options.serviceName,
      [ATTR_SERVICE_VERSION]: options.version,
      [ATTR_SERVICE_INSTANCE_ID]: options.instanceId,
    }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1_000 })],
  });
  provider.register({ propagator: tracePropagator() });
  return {
    enabled: true,
    async shutdown() {
      await provider.shutdown().catch(() => {});
    },
  };
}

/**
 * The header formats every service reads and writes: W3C trace context and baggage, and Jaeger's
 * `uber-trace-id` and `uberctx-*` baggage. What a request's headers may set is decided per caller
 * by the request envelope (server/request-envelope.ts): an untrusted caller's context is never continued.
 */
export function tracePropagator(): TextMapPropagator {
  return new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator(), new JaegerPropagator()],
  });
}

/** Copies the active trace context into outgoing request headers. */
export function injectTraceHeaders(headers: Record<string, string>, ctx = context.active()): void {
  propagation.inject(ctx, headers);
}

/**
 * Runs `work` inside a new active span (a root span when nothing is active), ending it when the
 * work settles and marking it failed on a throw. For background work that starts its own trace,
 * e.g. one turn of a loop.
 */
export function withSpan<T>(name: string, work: (span: Span) => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(name, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}
