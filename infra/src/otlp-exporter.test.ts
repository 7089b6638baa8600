import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import type { ExportResponse, IExporterTransport } from '@opentelemetry/otlp-exporter-base';
import { OTLPExporterError } from '@opentelemetry/otlp-exporter-base';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_ANSWER_BYTES, RetryingTransport, UndiciOtlpTransport, otlpSpanExporter, requestHeaders, retryAfterMs } from './otlp-exporter.js';

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

let server: Server | undefined;
const transports: UndiciOtlpTransport[] = [];
afterEach(async () => {
  for (const t of transports.splice(0)) t.shutdown();
  vi.unstubAllEnvs();
  await new Promise<void>((resolve) => (server ? (server.closeAllConnections(), server.close(() => resolve())) : resolve()));
  server = undefined;
});

/** A collector stand-in on an ephemeral port, answering each request with `answer`. */
async function collector(answer: (res: ServerResponse, received: Received) => void): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const one = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) };
      received.push(one);
      answer(res, one);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}/v1/traces`, received };
}

const headers = async () => ({ 'Content-Type': 'application/json', 'x-tenant': 'blue' });
const transport = (url: string, compression: 'gzip' | 'none' = 'none') => {
  const made = new UndiciOtlpTransport(url, headers, compression, OTLPExporterError);
  transports.push(made);
  return made;
};
const batch = new TextEncoder().encode('{"resourceSpans":[]}');

describe('UndiciOtlpTransport', () => {
  it('posts the batch with the configured headers; a 2xx is a success carrying the answer', async () => {
    const { url, received } = await collector((res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"partialSuccess":{}}'));
    const result = await transport(url).send(batch, 2_000);
    expect(result.status).toBe('success');
    expect(Buffer.from((result as { data: Uint8Array }).data).toString()).toBe('{"partialSuccess":{}}');
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ method: 'POST', url: '/v1/traces', body: Buffer.from(batch) });
    expect(received[0]!.headers).toMatchObject({ 'content-type': 'application/json', 'x-tenant': 'blue' });
    expect(received[0]!.headers['user-agent']).toMatch(/^OTel-OTLP-Exporter-JavaScript/);
  });

  it('a 2xx whose body then fails is still a success (the batch arrived: never sent twice)', async () => {
    const { url } = await collector((res) => {
      res.writeHead(200, { 'content-length': '100' }).write('{"partial');
      setImmediate(() => res.destroy());
    });
    expect((await transport(url).send(batch, 2_000)).status).toBe('success');
  });

  it('an answer over the size limit is a failure, whatever its status', async () => {
    const { url } = await collector((res) => res.writeHead(200).end(Buffer.alloc(MAX_ANSWER_BYTES + 1024)));
    const result = await transport(url).send(batch, 5_000);
    expect(result).toMatchObject({ status: 'failure', error: expect.objectContaining({ message: expect.stringMatching(/exceeded/) }) });
  });

  it('takes a fractional time limit', async () => {
    const { url } = await collector((res) => res.end());
    expect((await transport(url).send(batch, 1_500.5)).status).toBe('success');
  });

  it('gzips the body when compression is on', async () => {
    const { url, received } = await collector((res) => res.end());
    expect((await transport(url, 'gzip').send(batch, 2_000)).status).toBe('success');
    expect(received[0]!.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(received[0]!.body)).toEqual(Buffer.from(batch));
  });

  it('a 503 with Retry-After is retryable after that long; a 400 is a failure with its status and text', async () => {
    let calls = 0;
    const { url } = await collector((res) => (++calls === 1 ? res.writeHead(503, { 'retry-after': '2' }).end() : res.writeHead(400).end('bad spans')));
    const t = transport(url);
    expect(await t.send(batch, 2_000)).toEqual({ status: 'retryable', retryInMillis: 2_000 });
    const failed = await t.send(batch, 2_000);
    expect(failed.status).toBe('failure');
    const error = (failed as { error: OTLPExporterError }).error;
    expect(error).toBeInstanceOf(OTLPExporterError);
    expect(error.code).toBe(400);
    expect(error.data).toBe('bad spans');
  });

  it('a refused connection and an answer too slow are retryable', async () => {
    const { url } = await collector(() => {}); // never answers
    const slow = await transport(url).send(batch, 150);
    expect(slow.status).toBe('retryable');
    const closed = url.replace(/:\d+\//, ':1/');
    const refused = await transport(closed).send(batch, 1_000);
    expect(refused).toMatchObject({ status: 'retryable', error: expect.objectContaining({ code: 'ECONNREFUSED' }) });
  });

  it('the time limit covers the wait for a connection (both of the pool’s are busy)', async () => {
    const { url, received } = await collector(() => {}); // never answers
    const t = transport(url);
    const busy = [t.send(batch, 1_500), t.send(batch, 1_500)];
    const started = performance.now();
    const queued = await t.send(batch, 200);
    expect(queued.status).toBe('retryable');
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(received.length).toBeLessThanOrEqual(2);
    await Promise.all(busy);
  });
});

describe('RetryingTransport', () => {
  const schedule = { maxRetries: 3, initialBackoffMs: 10, maxBackoffMs: 20, multiplier: 2, jitter: 0 };
  const scripted = (outcomes: ExportResponse[]): IExporterTransport & { timeouts: number[] } => {
    const timeouts: number[] = [];
    return { timeouts, send: async (_data, timeout) => (timeouts.push(timeout), outcomes.shift()!), shutdown: () => {} };
  };

  it('retries a retryable outcome until it succeeds, within the export’s time', async () => {
    const inner = scripted([{ status: 'retryable' }, { status: 'retryable', retryInMillis: 5 }, { status: 'success' }]);
    expect(await new RetryingTransport(inner, schedule).send(batch, 1_000)).toEqual({ status: 'success' });
    expect(inner.timeouts).toHaveLength(3);
    // Each retry gets what is left of the export's time, not the whole of it again.
    expect(inner.timeouts[2]!).toBeLessThan(1_000);
  });

  it('stops after its retries, at a failure, or when the next wait would pass the deadline', async () => {
    const always = scripted(Array.from({ length: 10 }, () => ({ status: 'retryable' as const })));
    expect((await new RetryingTransport(always, schedule).send(batch, 1_000)).status).toBe('retryable');
    expect(always.timeouts).toHaveLength(4);
    const failing = scripted([{ status: 'retryable' }, { status: 'failure', error: new Error('no') }, { status: 'success' }]);
    expect((await new RetryingTransport(failing, schedule).send(batch, 1_000)).status).toBe('failure');
    const late = scripted([{ status: 'retryable', retryInMillis: 5_000 }, { status: 'success' }]);
    expect((await new RetryingTransport(late, schedule).send(batch, 1_000)).status).toBe('retryable');
    expect(late.timeouts).toHaveLength(1);
  });
});

describe('requestHeaders', () => {
  it('lower-cases names (the last spelling wins), adds the user agent, drops connection-level headers', () => {
    expect(requestHeaders({ 'Content-Type': 'application/json', 'content-type': 'application/x-protobuf', Connection: 'close', 'User-Agent': 'mine' })).toEqual({
      'content-type': 'application/x-protobuf',
      'user-agent': 'mine OTel-OTLP-Exporter-JavaScript (switchyard)',
    });
  });
});

describe('retryAfterMs', () => {
  it('reads seconds and HTTP dates, and nothing else', () => {
    const now = Date.parse('2026-11-27T12:00:00Z');
    expect(retryAfterMs('3', now)).toBe(3_000);
    expect(retryAfterMs('Fri, 27 Nov 2026 12:00:10 GMT', now)).toBe(10_000);
    expect(retryAfterMs('Fri, 27 Nov 2026 11:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs(undefined, now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
  });
});

describe('otlpSpanExporter', () => {
  it('exports finished spans to the collector as OTLP JSON, with the headers OTEL_EXPORTER_OTLP_HEADERS names', async () => {
    vi.stubEnv('OTEL_EXPORTER_OTLP_HEADERS', 'x-api-key=k1');
    vi.stubEnv('OTEL_EXPORTER_OTLP_COMPRESSION', 'none');
    vi.stubEnv('OTEL_EXPORTER_OTLP_TRACES_HEADERS', '');
    const { url, received } = await collector((res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    const { BasicTracerProvider, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
    const exporter = otlpSpanExporter(url);
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    provider.getTracer('test').startSpan('exported-span').end();
    await provider.forceFlush();
    await provider.shutdown();
    expect(received).toHaveLength(1);
    const sent = JSON.parse(received[0]!.body.toString()) as { resourceSpans: { scopeSpans: { spans: { name: string }[] }[] }[] };
    expect(sent.resourceSpans[0]!.scopeSpans[0]!.spans.map((s) => s.name)).toEqual(['exported-span']);
    expect(received[0]!.headers['content-type']).toBe('application/json');
    expect(received[0]!.headers['x-api-key']).toBe('k1');
  });
});
