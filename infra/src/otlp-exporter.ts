/**
 * The span exporter: OpenTelemetry's OTLP/HTTP JSON exporter, assembled from the SDK's own parts
 * (its configuration from the OTEL_EXPORTER_OTLP_* variables, the JSON serializer, the bounded
 * export queue, the exporter's self-metrics) with one part of ours: the transport to a plain-http
 * collector. The stock transport loads node:http through an ES `import('http')`, whose namespace
 * reads node:http's lazy WebSocket getters and so loads Node's bundled copy of undici beside
 * ours: ~2 MiB of RSS in every process, from its first exported span on (BENCHMARKS.md,
 * "Footprint"). Ours posts through the undici the platform already runs on and answers as the
 * SDK's does. An https collector, or one with credentials in its URL, gets the stock transport,
 * which reads the certificate variables.
 *
 * CommonJS packages loaded with require(), like the rest of the SDK (tracing.ts says why).
 */
import { createRequire } from 'node:module';
import { diag } from '@opentelemetry/api';
import type { ExportResponse, IExporterTransport } from '@opentelemetry/otlp-exporter-base';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { sleep } from './backoff.js';
import { Agent, request } from './client/undici-parts.js';

const require = createRequire(import.meta.url);

export interface RetrySchedule {
  readonly maxRetries: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly multiplier: number;
  /** ± this share of each backoff, at random. */
  readonly jitter: number;
}

/** The SDK's retry schedule for an export (its retrying transport is not exported). */
export const EXPORT_RETRY: RetrySchedule = Object.freeze({ maxRetries: 5, initialBackoffMs: 1_000, maxBackoffMs: 5_000, multiplier: 1.5, jitter: 0.2 });

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
/** Connection-level headers undici refuses in a request (node:http would send them); never the collector's business. */
const REFUSED_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'expect', 'host', 'content-length']);
/** What is read of an answer's body (the SDK's limit): an error's text, or a partial-success report. */
export const MAX_ANSWER_BYTES = 4 * 1024 * 1024;
const USER_AGENT = 'OTel-OTLP-Exporter-JavaScript (switchyard)';

/** The OTLP/HTTP JSON span exporter posting to `url` (…/v1/traces). */
export function otlpSpanExporter(url: string): SpanExporter {
  const base = require('@opentelemetry/otlp-exporter-base') as typeof import('@opentelemetry/otlp-exporter-base');
  const nodeHttp = require('@opentelemetry/otlp-exporter-base/node-http') as typeof import('@opentelemetry/otlp-exporter-base/node-http');
  const { JsonTraceSerializer, TraceExporterMetricsHelper } = require('@opentelemetry/otlp-transformer') as typeof import('@opentelemetry/otlp-transformer');
  const config = nodeHttp.convertLegacyHttpOptions({ url }, 'TRACES', 'v1/traces', { 'Content-Type': 'application/json' });
  // The stock exporter's component type (@opentelemetry/exporter-trace-otlp-http), for its self-metrics.
  const componentType = 'otlp_http_span_exporter';
  const target = new URL(config.url);
  if (target.protocol !== 'http:' || target.username || target.password) {
    return new base.OTLPExporterBase(nodeHttp.createOtlpHttpExportDelegate(config, JsonTraceSerializer, componentType, TraceExporterMetricsHelper, undefined)) as SpanExporter;
  }
  const metrics = nodeHttp.createOtlpHttpExporterMetrics(componentType, TraceExporterMetricsHelper, config.url, undefined);
  const transport = new RetryingTransport(new UndiciOtlpTransport(config.url, config.headers, config.compression, base.OTLPExporterError));
  return new base.OTLPExporterBase(base.createOtlpNetworkExportDelegate(config, JsonTraceSerializer, metrics, transport)) as SpanExporter;
}

type ExporterErrorClass = typeof import('@opentelemetry/otlp-exporter-base').OTLPExporterError;

/** One POST of a batch to a plain-http collector, its outcome told as the SDK's node:http transport tells it. */
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
    const headers = requestHeaders(await this.headers());
    let body: Uint8Array = data;
    if (this.compression === 'gzip') {
      body = await gzip(data);
      headers['content-encoding'] = 'gzip';
    }
    // The export's time covers the wait for a connection too: undici's request notices an abort
    // only once it is on one (nodejs/undici#386), so the answer does not wait for it.
    const signal = AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMillis)));
    const progress = { answered: false };
    return Promise.race([this.post(body, headers, signal, progress), timedOut(signal, progress)]);
  }

  shutdown(): void {
    this.agent.close().catch(() => {});
  }

  private async post(body: Uint8Array, headers: Record<string, string>, signal: AbortSignal, progress: { answered: boolean }): Promise<ExportResponse> {
    let answer;
    try {
      answer = await request(this.agent, { origin: this.origin, path: this.path, method: 'POST', headers, body, signal });
    } catch (error) {
      return networkFailure(error);
    }
    progress.answered = true;
    const status = answer.statusCode;
    const retryable = RETRYABLE_STATUSES.has(status);
    const retryInMillis = retryable ? retryAfterMs(answer.headers['retry-after']) : undefined;
    let read: Buffer | 'too large';
    try {
      read = await readAtMost(answer.body, MAX_ANSWER_BYTES);
    } catch (error) {
      // The answer's status is in: a body that fails after it changes nothing (the SDK's rule).
      const failure = asError(error);
      if (status >= 200 && status <= 299) return { status: 'success' };
      return retryable ? { status: 'retryable', error: failure, retryInMillis } : { status: 'failure', error: failure };
    }
    if (read === 'too large') return { status: 'failure', error: new Error(`the collector's answer exceeded ${MAX_ANSWER_BYTES} bytes`) };
    if (status >= 200 && status <= 299) return { status: 'success', data: read };
    if (retryable) return { status: 'retryable', retryInMillis };
    return { status: 'failure', error: new this.ExporterError(`the collector answered ${status}`, status, read.toString('utf8')) };
  }
}

/** Retries a retryable outcome on the SDK's schedule (or the collector's Retry-After), within the export's time. */
export class RetryingTransport implements IExporterTransport {
  constructor(
    private readonly transport: IExporterTransport,
    private readonly schedule: RetrySchedule = EXPORT_RETRY,
  ) {}

  async send(data: Uint8Array, timeoutMillis: number): Promise<ExportResponse> {
    const deadline = Date.now() + timeoutMillis;
    let backoff = this.schedule.initialBackoffMs;
    let result = await this.transport.send(data, timeoutMillis);
    for (let retries = 0; result.status === 'retryable' && retries < this.schedule.maxRetries; retries++) {
      const jitter = (Math.random() * 2 - 1) * this.schedule.jitter;
      const wait = result.retryInMillis ?? Math.max(0, Math.min(backoff * (1 + jitter), this.schedule.maxBackoffMs));
      backoff *= this.schedule.multiplier;
      if (wait > deadline - Date.now()) {
        diag.info(`OTLP export: a retry in ${Math.round(wait)} ms would pass the export's deadline; not retrying`);
        return result;
      }
      await sleep(wait);
      // A timer that fired late may leave no time at all.
      const left = deadline - Date.now();
      if (left <= 0) return result;
      result = await this.transport.send(data, left);
    }
    if (result.status === 'retryable') diag.info(`OTLP export failed after ${this.schedule.maxRetries} retries`);
    return result;
  }

  shutdown(): void {
    this.transport.shutdown();
  }
}

/** Retry-After in ms: seconds or an HTTP date (RFC 9110 §10.2.3); none when absent or unreadable. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1_000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The configured headers with lower-cased names (the last of two spellings wins, as node:http
 * would send it), our user agent, and without the connection-level headers undici refuses.
 */
export function requestHeaders(configured: Record<string, string>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(configured)) {
    const lower = name.toLowerCase();
    if (REFUSED_HEADERS.has(lower)) diag.warn(`OTLP export: the ${name} header is not sent (a connection-level header)`);
    else headers[lower] = value;
  }
  headers['user-agent'] = headers['user-agent'] ? `${headers['user-agent']} ${USER_AGENT}` : USER_AGENT;
  return headers;
}

function networkFailure(error: unknown): ExportResponse {
  const failure = asError(error);
  const code = (failure as { code?: unknown }).code;
  const retryable = failure.name === 'TimeoutError' || (typeof code === 'string' && RETRYABLE_CODES.has(code));
  return retryable ? { status: 'retryable', error: failure } : { status: 'failure', error: failure };
}

/** Retryable once the export's time is up, unless the answer's status is in (the body's read then settles it). */
function timedOut(signal: AbortSignal, progress: { answered: boolean }): Promise<ExportResponse> {
  return new Promise((resolve) =>
    signal.addEventListener(
      'abort',
      () => {
        if (!progress.answered) resolve({ status: 'retryable', error: new Error('the export timed out') });
      },
      { once: true },
    ),
  );
}

async function readAtMost(body: AsyncIterable<Buffer> & { destroy(): unknown }, limit: number): Promise<Buffer | 'too large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      return 'too large';
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function gzip(data: Uint8Array): Promise<Buffer> {
  const zlib = process.getBuiltinModule('node:zlib');
  return new Promise((resolve, reject) => zlib.gzip(data, (error, zipped) => (error ? reject(error) : resolve(zipped))));
}
