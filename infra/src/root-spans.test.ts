import { ROOT_CONTEXT, SpanKind, TraceFlags, trace } from '@opentelemetry/api';
import { AlwaysOnSampler, BasicTracerProvider, SamplingDecision, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PooledIdGenerator } from './trace-ids.js';
import { sdkSamplerFromEnv, startRootSpan, startTracing, type TracingHandle } from './tracing.js';

const RATIO = 0.5;

describe('startRootSpan (the SDK this process started, sampling half of new traces)', () => {
  let tracing: TracingHandle;
  beforeAll(() => {
    process.env.OTEL_TRACES_SAMPLER = 'parentbased_traceidratio';
    process.env.OTEL_TRACES_SAMPLER_ARG = String(RATIO);
    // Nothing is exported: no span here ends.
    tracing = startTracing({ serviceName: 'root-span-test', instanceId: 'root-span-test-1', version: '0', endpoint: 'http://127.0.0.1:9' });
  });
  afterAll(async () => {
    await tracing.shutdown();
    trace.disable();
    delete process.env.OTEL_TRACES_SAMPLER;
    delete process.env.OTEL_TRACES_SAMPLER_ARG;
  });

  it("is the SDK's own sampler for OTEL_TRACES_SAMPLER and its argument", () => {
    expect(String(sdkSamplerFromEnv())).toBe(`ParentBased{root=TraceIdRatioBased{${RATIO}}, remoteParentSampled=AlwaysOnSampler, remoteParentNotSampled=AlwaysOffSampler, localParentSampled=AlwaysOnSampler, localParentNotSampled=AlwaysOffSampler}`);
  });

  it('records a new trace exactly when the ratio sampler takes its trace id, the one id drawn for it', () => {
    const ratio = new TraceIdRatioBasedSampler(RATIO);
    // Every trace id the pool gives out, in order: a sampled span must be made under the id the
    // decision was taken on (handed back to the SDK), not under a second one the SDK draws.
    const drawn: string[] = [];
    let sampled = 0;
    try {
      const pool = PooledIdGenerator.prototype as unknown as { take(length: number, invalid: string): string };
      const take = pool.take;
      vi.spyOn(pool, 'take').mockImplementation(function (this: unknown, length, invalid) {
        const id = take.call(this, length, invalid);
        if (length === 32) drawn.push(id);
        return id;
      });
      for (let i = 0; i < 2_000; i++) {
        drawn.length = 0;
        const span = startRootSpan('GET /thing', SpanKind.SERVER, []);
        const { traceId, spanId, traceFlags } = span.spanContext();
        expect(traceId).toMatch(/^[0-9a-f]{32}$/);
        expect(spanId).toMatch(/^[0-9a-f]{16}$/);
        expect(drawn).toEqual([traceId]);
        const taken = ratio.shouldSample(ROOT_CONTEXT, traceId).decision === SamplingDecision.RECORD_AND_SAMPLED;
        expect(span.isRecording()).toBe(taken);
        expect((traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED).toBe(taken);
        if (taken) sampled += 1;
      }
    } finally {
      vi.restoreAllMocks();
    }
    expect(sampled).toBeGreaterThan(800);
    expect(sampled).toBeLessThan(1_200);
  });

  it('gives every span its own trace id (a handed-back id serves one span)', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 500; i++) ids.add(startRootSpan('GET /thing', SpanKind.SERVER, []).spanContext().traceId);
    expect(ids.size).toBe(500);
  });

  it("leaves any other provider's spans to it: with tracing stopped, the API's no-op", async () => {
    const before = startRootSpan('GET /thing', SpanKind.SERVER, []);
    expect(trace.isSpanContextValid(before.spanContext())).toBe(true);
    await tracing.shutdown();
    trace.disable();
    const after = startRootSpan('GET /thing', SpanKind.SERVER, []);
    expect(trace.isSpanContextValid(after.spanContext())).toBe(false);
  });
});

describe('startRootSpan with another provider registered before tracing started', () => {
  it("leaves every span to that provider (its sampler, its ids), not to the one whose registration did not take", async () => {
    process.env.OTEL_TRACES_SAMPLER = 'parentbased_traceidratio';
    process.env.OTEL_TRACES_SAMPLER_ARG = '0';
    const first = new BasicTracerProvider({ sampler: new AlwaysOnSampler() });
    trace.setGlobalTracerProvider(first);
    const tracing = startTracing({ serviceName: 'root-span-test', instanceId: 'root-span-test-2', version: '0', endpoint: 'http://127.0.0.1:9' });
    try {
      // Ours would sample nothing (ratio 0); the first provider's sampler records every span.
      for (let i = 0; i < 50; i++) expect(startRootSpan('GET /thing', SpanKind.SERVER, []).isRecording()).toBe(true);
    } finally {
      await tracing.shutdown();
      await first.shutdown();
      trace.disable();
      delete process.env.OTEL_TRACES_SAMPLER;
      delete process.env.OTEL_TRACES_SAMPLER_ARG;
    }
  });
});
