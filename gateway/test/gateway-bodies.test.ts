/**
 * What crosses the gateway byte for byte: request bodies as received (never re-serialised JSON,
 * never decompressed), with a 413 past the size limit; and every Set-Cookie of the answer as its
 * own header. The upstream is the echo fixture, behind the real gateway with test-only routes.
 */
import { randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/support/wait.js';
import { ECHO_COOKIES } from './fixtures/echo-cookies.js';
import { PrivateStack, get, json, metric, send, type Running } from './upstreams.js';

const ONE_MB = 1024 * 1024;

describe('gateway request bodies and response headers (real Consul)', () => {
  const stack = new PrivateStack();
  let gateway: Running;

  const post = (body: RequestInit['body'], headers: Record<string, string>, init: RequestInit = {}) =>
    send(gateway.port, '/test/echo', { method: 'POST', body, headers, ...init });
  const echoCalls = () => metric(gateway.port, 'switchyard_upstream_requests_total', { service: `echo${stack.suffix}` });

  beforeAll(async () => {
    [gateway] = await Promise.all([stack.start('gateway-with-echo'), stack.startPassing('echo', 1)]);
    await waitFor('the gateway to reach echo', async () => (await post('{}', { 'content-type': 'application/json' })).status === 200);
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

    const sized = await post(Buffer.alloc(ONE_MB + 1, 0x61), { 'content-type': 'application/octet-stream' });
    expect(sized.status).toBe(413);
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

  it('passes every Set-Cookie of the answer as its own header line', async () => {
    const answer = await get(gateway.port, '/test/cookies');
    expect(answer.status).toBe(200);
    expect(answer.headers.getSetCookie()).toEqual(ECHO_COOKIES);
  });
});
