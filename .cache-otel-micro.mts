import { ROOT_CONTEXT, SpanKind, context, propagation, trace, INVALID_TRACEID } from '@opentelemetry/api';
process.env.OTEL_TRACES_SAMPLER = 'parentbased_traceidratio'; process.env.OTEL_TRACES_SAMPLER_ARG = '0.01';
const { startTracing, tracer } = await import('./infra/src/tracing.ts');
startTracing({ serviceName: 'micro', instanceId: 'm1', version: '1', endpoint: 'http://127.0.0.1:1' });
const N = 300_000;
function bench(name: string, fn: () => void) {
  for (let i = 0; i < 50_000; i++) fn();
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) fn();
  console.log(name, (Number(process.hrtime.bigint() - t) / N).toFixed(0), 'ns');
}
const t = tracer();
bench('startSpan (root, unsampled mostly)', () => { t.startSpan('GET /x', { kind: SpanKind.SERVER, links: [] }, ROOT_CONTEXT); });
const span = t.startSpan('GET /x', { kind: SpanKind.SERVER }, ROOT_CONTEXT);
bench('setSpan', () => { trace.setSpan(ROOT_CONTEXT, span); });
const ctx = trace.setSpan(ROOT_CONTEXT, span);
bench('context.with', () => { context.with(ctx, () => 1); });
bench('inject', () => { const h: Record<string, string> = {}; propagation.inject(ctx, h); });
bench('isRecording+spanContext', () => { span.isRecording(); span.spanContext().traceId !== INVALID_TRACEID; });
bench('all', () => { const s = t.startSpan('GET /x', { kind: SpanKind.SERVER, links: [] }, ROOT_CONTEXT); const c = trace.setSpan(ROOT_CONTEXT, s); context.with(c, () => { const h: Record<string, string> = {}; propagation.inject(context.active(), h); }); s.end(); });
process.exit(0);
