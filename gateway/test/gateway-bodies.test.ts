/**
 * What crosses the gateway byte for byte: request bodies as received (never re-serialised JSON,
 * never decompressed), with a 413 past the size limit; and every Set-Cookie of the answer as its
 * own header. The upstream is the echo fixture, behind the real gateway with test-only routes.
 */
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/support/wait.js';
import { ECHO_COOKIES } from './fixtures/echo-cookies.js';
import { DRAIN_BUDGET } from '../src/body.js';
import { rawExchange } from './raw-http.js';
import { PrivateStack, get, json, metric, send, type Running } from './upstreams.js';

const ONE_MB = 1024 * 1024;
const FIFTY_MB = 50 * ONE_MB;

describe('gateway request bodies and response headers (real Consul)', () => {
  const stack = new PrivateStack();
  let gateway: Running;

  const post = (body: RequestInit['body'], headers: Record<string, string>, init: RequestInit = {}) =>
    send(gateway.port, '/test/echo', { method: 'POST', body, headers, ...init });
  const echoCalls = () => metric(gateway.adminPort!, 'switchyard_upstream_requests_total', { service: `echo${stack.suffix}` });

  beforeAll(async () => {
    [gateway] = await Promise.all([stack.start('gateway-with-echo'), stack.startPassing('echo', 1), stack.startRngs(1)]);
    await waitFor('the gateway to reach echo', async () => (await post('{}', { 'content-type': 'application/json' })).status === 200);
    await waitFor('the gateway to reach rng', async () => (await get(gateway.port, '/api/v1/rng/1')).status === 200);
  });
  afterAll(() => stack.stopAll());

  it('forwards a JSON body byte-identical: a big integer id keeps every digit, spacing and key order stay', async () => {
    const text = '{"id":12345678901234567890,  "amount": 1.10, "z":1,"a":"caf\u00e9 \\u00e9"}';
    const answer = await post(text, { 'content-type': 'application/json; charset=utf-8' });
    expect(answer.status).toBe(200);
    expect(answer.body.toString('utf8')).toBe(text);
    expect(answer.body.equals(Buffer.from(text, 'utf8'))).toBe(true);
    expect(answer.headers.get('x-echo-content-type')).toBe('application/json; charset=utf-8');
  });

  it('forwards a compressed body still compressed, with its Content-Encoding, for the upstream to decode', async () => {
    const text = JSON.stringify({ id: '12345678901234567890', pad: 'x'.repeat(5_000) });
    const gzipped = gzipSync(text);
    const answer = await post(gzipped, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-echo-content-encoding')).toBe('gzip');
    expect(answer.body.equals(gzipped)).toBe(true);
    expect(gunzipSync(answer.body).toString()).toBe(text);
  });

  it('forwards any content type as is: binary bytes, and malformed JSON that only the upstream may judge', async () => {
    const binary = randomBytes(64 * 1024);
    const answer = await post(binary, { 'content-type': 'application/octet-stream' });
    expect(answer.status).toBe(200);
    expect(answer.body.equals(binary)).toBe(true);

    const malformed = '{"id": 1,';
    const relayed = await post(malformed, { 'content-type': 'application/json' });
    expect(relayed.status).toBe(200);
    expect(relayed.body.toString()).toBe(malformed);
  });

  it('answers 413 payload_too_large JSON past 1 MB, with or without Content-Length, without calling the upstream', async () => {
    const callsBefore = await echoCalls();

    const sized = await post(Buffer.alloc(ONE_MB + 1, 0x61), { 'content-type': 'application/octet-stream', 'x-request-id': 'refused-413' });
    expect(sized.status).toBe(413);
    expect(sized.headers.get('x-request-id')).toBe('refused-413');
    expect(json(sized)).toEqual({ error: { code: 'payload_too_large', message: 'request body is too large' } });
    expect(sized.headers.get('x-gateway')).toBe(gateway.serviceId);

    // Chunked: no length up front, so the limit is enforced while reading.
    const chunk = Buffer.alloc(64 * 1024, 0x62);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > ONE_MB) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const chunked = await post(stream, { 'content-type': 'application/json' }, { duplex: 'half' } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(json(chunked).error.code).toBe('payload_too_large');

    // Exactly the limit still passes.
    const atLimit = await post(Buffer.alloc(ONE_MB, 0x63), { 'content-type': 'application/octet-stream' });
    expect(atLimit.status).toBe(200);
    expect(atLimit.body.length).toBe(ONE_MB);

    expect(await echoCalls()).toBe(callsBefore + 1);
  });

  it('refuses a declared 50 MB upload with 413 at once, while it trickles, and closes the connection', async () => {
    const callsBefore = await echoCalls();
    const answer = await rawExchange(gateway.port, {
      head: [
        'POST /test/echo HTTP/1.1',
        `Host: 127.0.0.1:${gateway.port}`,
        'Content-Type: application/octet-stream',
        `Content-Length: ${FIFTY_MB}`,
      ],
      trickle: { chunk: Buffer.alloc(1024, 0x61), everyMs: 20 },
    });
    expect(answer.status).toBe(413);
    expect(answer.elapsedMs).toBeLessThan(1_000);
    expect(JSON.parse(answer.body.toString())).toEqual({ error: { code: 'payload_too_large', message: 'request body is too large' } });
    expect(answer.headers.connection).toBe('close');
    expect(answer.headers['x-gateway']).toBe(gateway.serviceId);
    expect(answer.bodyBytesSent).toBeLessThan(ONE_MB);
    // The gateway does not wait for the other 50 MB: it hangs up right after its answer.
    await waitFor('the gateway to close the connection', answer.isClosed, { timeoutMs: 2_000 });
    expect(await echoCalls()).toBe(callsBefore);
  });

  it('answers 413 before any upload to a declared 50 MB body sent with Expect: 100-continue', async () => {
    // The client sends nothing until told to, and infra sends 100 Continue only once something
    // reads the body: the gateway refuses first, so no 100 ever goes out.
    const answer = await rawExchange(gateway.port, {
      head: [
        'POST /test/echo HTTP/1.1',
        `Host: 127.0.0.1:${gateway.port}`,
        'Content-Type: application/octet-stream',
        `Content-Length: ${FIFTY_MB}`,
        'Expect: 100-continue',
      ],
    });
    expect(answer.status).toBe(413);
    expect(answer.interim).toEqual([]);
    expect(answer.elapsedMs).toBeLessThan(1_000);
    expect(answer.bodyBytesSent).toBe(0);
    expect(answer.headers.connection).toBe('close');
    expect(JSON.parse(answer.body.toString()).error.code).toBe('payload_too_large');
    answer.destroy();
  });

  it('sends 100 Continue once the body is wanted, and forwards it: a well-behaved client waits for it', async () => {
    const body = Buffer.from('{"id": 12345678901234567890}');
    const answer = await new Promise<{ continued: boolean; status: number; body: Buffer }>((resolve, reject) => {
      let continued = false;
      const req = httpRequest({
        port: gateway.port,
        host: '127.0.0.1',
        method: 'POST',
        path: '/test/echo',
        headers: { 'content-type': 'application/json', 'content-length': body.length, expect: '100-continue' },
      });
      // The body goes out only after the server's 100, as curl and browsers do (modulo a timer).
      req.on('continue', () => {
        continued = true;
        req.end(body);
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ continued, status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.setTimeout(5_000, () => req.destroy(new Error('no answer within 5 s')));
    });
    expect(answer.continued).toBe(true);
    expect(answer.status).toBe(200);
    expect(answer.body.toString()).toContain('12345678901234567890');
  });

  it('answers 413 to an endless chunked upload after draining a bounded amount, then closes', async () => {
    const callsBefore = await echoCalls();
    const chunk = (bytes: Buffer) => Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n')]);
    const answer = await rawExchange(gateway.port, {
      head: ['POST /test/echo HTTP/1.1', `Host: 127.0.0.1:${gateway.port}`, 'Content-Type: application/octet-stream', 'Transfer-Encoding: chunked'],
      initial: chunk(Buffer.alloc(ONE_MB + 1, 0x62)),
      // Never ends: without a bound, the gateway would wait for it forever.
      trickle: { chunk: chunk(Buffer.alloc(1024, 0x63)), everyMs: 20 },
    });
    expect(answer.status).toBe(413);
    expect(answer.elapsedMs).toBeLessThan(DRAIN_BUDGET.ms + 2_000);
    expect(JSON.parse(answer.body.toString()).error.code).toBe('payload_too_large');
    expect(answer.headers.connection).toBe('close');
    await waitFor('the gateway to close the connection', answer.isClosed, { timeoutMs: 2_000 });
    expect(await echoCalls()).toBe(callsBefore);
  });

  it('relays HEAD with the length the GET would have, and no body', async () => {
    const answer = await rawExchange(gateway.port, { head: ['HEAD /api/v1/rng/32 HTTP/1.1', `Host: 127.0.0.1:${gateway.port}`] });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-length']).toBe('32');
    expect(answer.headers['content-type']).toBe('application/octet-stream');
    expect(answer.headers['transfer-encoding']).toBeUndefined();
    answer.destroy();

    // Through fetch too: what a client sees, and nothing after the head (no stray body bytes).
    const viaFetch = await send(gateway.port, '/api/v1/rng/32', { method: 'HEAD' });
    expect(viaFetch.status).toBe(200);
    expect(viaFetch.headers.get('content-length')).toBe('32');
    expect(viaFetch.body.length).toBe(0);
    const after = await get(gateway.port, '/api/v1/rng/16');
    expect(after.body.length).toBe(16);
  });

  it('relays 304 and 204 without a body and without a made-up Content-Length', async () => {
    // (A 304 with the upstream's Content-Length is covered by proxy.test.ts: infra's transport
    // cannot receive one, see the echo fixture.)
    const notModified = await rawExchange(gateway.port, { head: ['GET /test/not-modified HTTP/1.1', `Host: 127.0.0.1:${gateway.port}`] });
    expect(notModified.status).toBe(304);
    expect(notModified.headers['content-length']).toBeUndefined();
    expect(notModified.headers.etag).toBe('"v1"');
    notModified.destroy();

    const noContent = await rawExchange(gateway.port, { head: ['GET /test/no-content HTTP/1.1', `Host: 127.0.0.1:${gateway.port}`] });
    expect(noContent.status).toBe(204);
    expect(noContent.headers['content-length']).toBeUndefined();
    expect(noContent.headers['transfer-encoding']).toBeUndefined();
    noContent.destroy();
  });

  it('passes every Set-Cookie of the answer as its own header line', async () => {
    const answer = await get(gateway.port, '/test/cookies');
    expect(answer.status).toBe(200);
    expect(answer.headers.getSetCookie()).toEqual(ECHO_COOKIES);
  });
});
