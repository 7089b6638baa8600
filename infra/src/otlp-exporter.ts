/**
 * The span exporter: OpenTelemetry's OTLP/HTTP JSON exporter, assembled from the SDK's own parts
 * (its configuration with every OTEL_EXPORTER_OTLP_* variable, the JSON serializer, the bounded
 * export queue, the exporter's self-metrics) with one part of ours: the transport. The stock
 * transport loads node:http through an ES `import('http')`, whose namespace reads node:http's lazy
 * WebSocket getters and so loads Node's bundled copy of undici beside ours: ~2 MiB of RSS in every
 * process, from its first exported span on (BENCHMARKS.md, "Footprint"). Ours posts through the
 * undici the platform already runs on, and retries as the SDK's transport does.
 *
 * CommonJS packages loaded with require(), like the rest of the SDK (tracing.ts says why).
 */
import { createRequire } from 'node:module';
import type { ExportResponse, IExporterTransport } from '@opentelemetry/otlp-exporter-base';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { Agent, request } from './client/undici-parts.js';

const require = createRequire(import.meta.url);

/** The SDK's retry schedule for an export (its retrying transport is not exported). */
export const EXPORT_RETRY = { maxRetries: 5, initialBackoffMs: 1_000, maxBackoffMs: 5_000, multiplier: 1.5, jitter: 0.2 };

/** Statuses the OTLP specification says to retry. */
const RETRYABLE_STATUSES = new Set([429, 502, 503, 504]);
/** Network failures worth another try: the collector restarting, a connection dropped, a slow answer. */
const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
/** What is read of an answer's body (the SDK's limit): an error's text, or a partial-success report. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

/** The OTLP/HTTP JSON span exporter posting to `url` (…/v1/traces). */
export function otlpSpanExporter(url: string): SpanExporter {
  const base = require('@opentelemetry/otlp-exporter-base') as typeof import('@opentelemetry/otlp-exporter-base');
  const nodeHttp = require('@opentelemetry/otlp-exporter-base/node-http') as typeof import('@opentelemetry/otlp-exporter-base/node-http');
  const { JsonTraceSerializer, TraceExporterMetricsHelper } = require('@opentelemetry/otlp-transformer') as typeof import('@opentelemetry/otlp-transformer');
  const config = nodeHttp.convertLegacyHttpOptions({ url }, 'TRACES', 'v1/traces', { 'Content-Type': 'application/json' });
  const metrics = nodeHttp.createOtlpHttpExporterMetrics('otlp_http_span_exporter', TraceExporterMetricsHelper, config.url, undefined);
  const transport = new RetryingTransport(new UndiciOtlpTransport(config.url, config.headers, config.compression, base.OTLPExporterError));
  return new base.OTLPExporterBase(base.createOtlpNetworkExportDelegate(config, JsonTraceSerializer, metrics, transport)) as SpanExporter;
}

type ExporterErrorClass = typeof import('@opentelemetry/otlp-exporter-base').OTLPExporterError;

/** One POST of a batch to the collector, its outcome told as the SDK's transports tell it. */
export class UndiciOtlpTransport implements IExporterTransport {
  private readonly agent = new Agent({ keepAliveTimeout: 4_000, connections: 2 });
  private readonly origin: string;
  private readonly path: string;

  constructor(
    url: string,
    private readonly headers: () => Promise<Record<string, string>>,
    private readonly compression: 'gzip' | 'none',
    private readonly ExporterError: ExporterErrorClass,
  ) {
    const parsed = new URL(url);
    this.origin = parsed.origin;
    this.path = `${parsed.pathname}${parsed.search}`;
  }

  async send(data: Uint8Array, timeoutMillis: number): Promise<ExportResponse> {
    const headers: Record<string, string> = { ...(await this.headers()), 'user-agent': 'switchyard OTel-OTLP-Exporter-JavaScript' };
    let body: Uint8Array = data;
    if (this.compression === 'gzip') {
      body = await gzip(data);
      headers['content-encoding'] = 'gzip';
    }
    try {
      const answer = await request(this.agent, { origin: this.origin, path: this.path, method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMillis) });
      const text = await readText(answer.body);
      if (answer.statusCode >= 200 && answer.statusCode <= 299) return { status: 'success', data: Buffer.from(text) };
      if (RETRYABLE_STATUSES.has(answer.statusCode)) return { status: 'retryable', retryInMillis: retryAfterMs(answer.headers['retry-after']) };
      return { status: 'failure', error: new this.ExporterError(`the collector answered ${answer.statusCode}`, answer.statusCode, text) };
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      const code = (failure as { code?: unknown }).code;
      const timedOut = failure.name === 'TimeoutError';
      return timedOut || (typeof code === 'string' && RETRYABLE_CODES.has(code)) ? { status: 'retryable', error: failure } : { status: 'failure', error: failure };
    }
  }

  shutdown(): void {
    void this.agent.close();
  }
}

/** Retries a retryable outcome on the SDK's schedule (or the collector's Retry-After), within the export's time. */
export class RetryingTransport implements IExporterTransport {
  constructor(
    private readonly transport: IExporterTransport,
    private readonly schedule = EXPORT_RETRY,
  ) {}

  async send(data: Uint8Array, timeoutMillis: number): Promise<ExportResponse> {
    const deadline = Date.now() + timeoutMillis;
    let backoff = this.schedule.initialBackoffMs;
    let result = await this.transport.send(data, timeoutMillis);
    for (let retries = 0; result.status === 'retryable' && retries < this.schedule.maxRetries; retries++) {
      const jitter = (Math.random() * 2 - 1) * this.schedule.jitter;
      const wait = result.retryInMillis ?? Math.max(0, Math.min(backoff * (1 + jitter), this.schedule.maxBackoffMs));
      backoff *= this.schedule.multiplier;
      const remaining = deadline - Date.now();
      if (wait > remaining) return result;
      await new Promise((resolve) => setTimeout(resolve, wait));
      result = await this.transport.send(data, deadline - Date.now());
    }
    return result;
  }

  shutdown(): void {
    this.transport.shutdown();
  }
}

/** Retry-After in ms: seconds or an HTTP date (RFC 9110 §10.2.3); none when absent or unreadable. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return undefined;
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1_000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

async function readText(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_ANSWER_BYTES) {
      body.destroy();
      break;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function gzip(data: Uint8Array): Promise<Buffer> {
  const zlib = process.getBuiltinModule('node:zlib');
  return new Promise((resolve, reject) => zlib.gzip(data, (error, zipped) => (error ? reject(error) : resolve(zipped))));
}
