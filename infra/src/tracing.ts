import { createRequire } from 'node:module';
import { ROOT_CONTEXT, SpanStatusCode, TraceFlags, context, propagation, trace, type Link, type Span, type SpanKind, type TextMapPropagator, type Tracer, type TracerProvider } from '@opentelemetry/api';
import type { Sampler } from '@opentelemetry/sdk-trace-base';
import { otlpSpanExporter } from './otlp-exporter.js';
import { PooledIdGenerator } from './trace-ids.js';

// The SDK, the OTLP exporter, the propagators and the store instrumentations are loaded through
// require() when tracing is on, never at import: with tracing off (no endpoint) a process holds
// only the API's no-op, ~3.5 MiB less live heap and 7-12 MiB less RSS (BENCHMARKS.md,
// "Footprint"). They are CommonJS packages, so require() loads the very modules an import would;
// semantic-conventions is the one dual package, and require() picks the CommonJS build the SDK
// itself loads (an import loaded its ES build beside it: two copies).
const require = createRequire(import.meta.url);

/** Span attribute naming the Consul service id an attempt was sent to. */
export const ATTR_UPSTREAM_INSTANCE = 'switchyard.upstream.instance_id';
export const ATTR_SERVICE_INSTANCE_ID = 'service.instance.id';

let tracerSource: TracerProvider | undefined;
let cachedTracer: Tracer | undefined;

/**
 * The platform's tracer, asked of the global provider only when that changes (a test may register
 * another): trace.getTracer() builds a tracer, or looks one up by a key it builds, on every call,
 * and every request asks for it (its server span, each upstream attempt).
 */
export function tracer(): Tracer {
  const provider = trace.getTracerProvider();
  if (provider !== tracerSource || !cachedTracer) {
    tracerSource = provider;
    cachedTracer = provider.getTracer('switchyard');
  }
  return cachedTracer;
}

let instrumentationsRegistered = false;

/**
 * Whether this process exports spans: OTEL_EXPORTER_OTLP_ENDPOINT set, the variable config.ts
 * reads for startTracing. Read here because the store instrumentations must be in place before
 * the stores load, which is before the config reaches startTracing.
 */
function tracingConfigured(): boolean {
  return Boolean(process.env.OTEL_EXPORTER_OTLP_ENDPOINT);
}

/**
 * Patches ioredis and mysql2 so their commands become child spans. It must run before either
 * library is first loaded, which is why infra loads them itself (see stores.ts) after this.
 * The instrumentations use the global (proxy) tracer provider, so the real provider may be
 * registered later, once the instance knows its Consul id. With tracing off it does nothing:
 * their spans would go to the API's no-op, and every command would still pay for the wrapping.
 */
export function registerStoreInstrumentations(): void {
  if (instrumentationsRegistered || !tracingConfigured()) return;
  instrumentationsRegistered = true;
  const { registerInstrumentations } = require('@opentelemetry/instrumentation') as typeof import('@opentelemetry/instrumentation');
  const { IORedisInstrumentation } = require('@opentelemetry/instrumentation-ioredis') as typeof import('@opentelemetry/instrumentation-ioredis');
  const { MySQL2Instrumentation } = require('@opentelemetry/instrumentation-mysql2') as typeof import('@opentelemetry/instrumentation-mysql2');
  registerInstrumentations({ instrumentations: [new IORedisInstrumentation(), new MySQL2Instrumentation()] });
}

/**
 * How long a finished span waits for its batch's export. Not the SDK's 5 s, nor the 1 s used
 * before: under load with a 1 % sampler, a pending export of a second left the gateway promoting
 * ~14 % of all it allocated (the spans and trace ids of every request, unsampled ones included,
 * surviving scavenges until the next full collection; scavenge pauses ~450 ms per 5 s, ~20 % more
 * CPU per request) in 6 of 10 runs, and in none of 8 at 200 ms (BENCHMARKS.md, "Gateway hop").
 * It does not happen without Node 24's async context frames (`--no-async-context-frame`); which
 * reference keeps them is not pinned down. Spans also reach Jaeger sooner.
 */
const EXPORT_DELAY_MS = 200;

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

  const { resourceFromAttributes } = require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
  const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node');
  const { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } = require('@opentelemetry/semantic-conventions') as typeof import('@opentelemetry/semantic-conventions');
  const exporter = otlpSpanExporter(`${options.endpoint.replace(/\/+$/, '')}/v1/traces`);
  // The sampler the SDK would build from OTEL_TRACES_SAMPLER(_ARG) itself, built here so that
  // startRootSpan asks the very same one.
  const sampler = sdkSamplerFromEnv();
  const ids = new PooledIdGenerator();
  const provider = new NodeTracerProvider({
    ...(sampler ? { sampler } : {}),
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: options.serviceName,
      [ATTR_SERVICE_VERSION]: options.version,
      [ATTR_SERVICE_INSTANCE_ID]: options.instanceId,
    }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: EXPORT_DELAY_MS })],
    idGenerator: ids,
  });
  provider.register({ propagator: tracePropagator() });
  // Only when this registration took (a provider registered before ours stays the API's): the
  // API's provider is one proxy object, its delegate the SDK's provider.
  const api = trace.getTracerProvider() as TracerProvider & { getDelegate?: () => TracerProvider };
  rootSpans = sampler && api.getDelegate?.() === provider ? { provider: api, sampler, ids } : undefined;
  return {
    enabled: true,
    async shutdown() {
      rootSpans = undefined;
      await provider.shutdown().catch(() => {});
    },
  };
}

/** What startTracing gave the SDK, and the provider as the API hands it out (startRootSpan). */
let rootSpans: { provider: TracerProvider; sampler: Sampler; ids: PooledIdGenerator } | undefined;
const NO_ATTRIBUTES = Object.freeze({});

/**
 * A span for a request that begins a new trace: the edge's requests, most of them. The sampler
 * decides on a trace id drawn here first; an unsampled one (99 % of them at the 1 % the compose
 * file and the benches set) is then the non-recording span the SDK's startSpan would have made,
 * without it (its links copy, attribute checks, span metrics and a second id draw: ~2 µs at 1
 * connection, ~7 % of the gateway's throughput with tracing on, BENCHMARKS.md "Gateway hop"). A
 * sampled one is made by the SDK under the id the decision was taken on (the id generator hands
 * it back), and the SDK's sampler, the same object, decides the same way: the samplers
 * OTEL_TRACES_SAMPLER names all decide a root span by its trace id alone. Any other provider
 * (tracing off, a test's own) gets a plain startSpan.
 */
export function startRootSpan(name: string, kind: SpanKind, links: Link[]): Span {
  const own = rootSpans;
  if (own !== undefined && trace.getTracerProvider() === own.provider) {
    const traceId = own.ids.generateTraceId();
    const { decision } = own.sampler.shouldSample(ROOT_CONTEXT, traceId, name, kind, NO_ATTRIBUTES, links);
    // SamplingDecision.NOT_RECORD (0): a const enum of the SDK's, which loads only with tracing on.
    if (decision === 0) return trace.wrapSpanContext({ traceId, spanId: own.ids.generateSpanId(), traceFlags: TraceFlags.NONE });
    own.ids.handBack(traceId);
    try {
      return tracer().startSpan(name, { kind, links }, ROOT_CONTEXT);
    } finally {
      // Consumed by the SDK's draw; never left for a later span should it not have been.
      own.ids.handBack(undefined);
    }
  }
  return tracer().startSpan(name, { kind, links }, ROOT_CONTEXT);
}

/**
 * The SDK's own sampler for OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG (the specification's
 * names and defaults). Loaded from its module by path: the package's index does not export it;
 * root-spans.test.ts checks it is there. Should an upgrade move it: undefined, and the SDK builds
 * its sampler itself (no quicker root path then, nothing else lost).
 */
export function sdkSamplerFromEnv(): Sampler | undefined {
  try {
    const { buildSamplerFromEnv } = require('@opentelemetry/sdk-trace-base/build/src/config.js') as { buildSamplerFromEnv: () => Sampler };
    return buildSamplerFromEnv();
  } catch {
    return undefined;
  }
}

/**
 * The header formats every service reads and writes: W3C trace context and baggage, and Jaeger's
 * `uber-trace-id` and `uberctx-*` baggage. What a request's headers may set is decided per caller
 * by the request envelope (server/request-envelope.ts): an untrusted caller's context is never continued.
 */
export function tracePropagator(): TextMapPropagator {
  const { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } = require('@opentelemetry/core') as typeof import('@opentelemetry/core');
  const { JaegerPropagator } = require('@opentelemetry/propagator-jaeger') as typeof import('@opentelemetry/propagator-jaeger');
  return new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator(), new JaegerPropagator()],
  });
}

/**
 * Whether the configured sampler never records a child of an unsampled parent: true for the
 * parent-based samplers (OpenTelemetry's default, and what compose and the benches configure)
 * and for always_off; false for always_on or a bare traceidratio, which decide every span anew.
 * Read from the same variable the SDK reads. When true, work under an unsampled span may skip
 * making child spans of its own (they would be non-recording) and pass the parent's context on.
 */
export function unsampledParentsStayUnsampled(env: NodeJS.ProcessEnv = process.env): boolean {
  const sampler = (env.OTEL_TRACES_SAMPLER ?? '').trim().toLowerCase();
  return sampler === '' || sampler.startsWith('parentbased_') || sampler === 'always_off';
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
