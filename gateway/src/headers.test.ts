import { describe, expect, it } from 'vitest';
import { clientResponseHeaders, endToEndHeaders, upstreamRequestHeaders } from './headers.js';

describe('endToEndHeaders', () => {
  it('drops hop-by-hop headers and the ones Connection names', () => {
    const kept = endToEndHeaders({
      connection: 'keep-alive, x-private-hop',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      upgrade: 'websocket',
      te: 'trailers',
      'x-private-hop': 'secret',
      'content-type': 'application/octet-stream',
      'x-custom': 'kept',
    });
    expect(kept).toEqual({ 'content-type': 'application/octet-stream', 'x-custom': 'kept' });
  });

  it('joins repeated headers and skips undefined ones', () => {
    expect(endToEndHeaders({ accept: ['a/b', 'c/d'], missing: undefined })).toEqual({ accept: 'a/b, c/d' });
  });
});

describe('upstreamRequestHeaders', () => {
  const forged = {
    'x-forwarded-for': '10.0.0.1',
    'x-forwarded-host': 'admin.internal',
    'x-forwarded-proto': 'https',
    'x-forwarded-port': '443',
    forwarded: 'for=10.0.0.1;proto=https',
    'x-real-ip': '10.0.0.1',
    'true-client-ip': '10.0.0.1',
  };
  const client = { remoteAddress: '127.0.0.1', requestId: 'assigned', host: 'localhost:8080' };

  it('forwards end-to-end headers, replaces what the gateway owns and adds X-Forwarded-*', () => {
    const headers = upstreamRequestHeaders(
      {
        host: 'localhost:8080',
        'content-length': '12',
        traceparent: '00-abc-def-01',
        authorization: 'Bearer t',
        'x-request-id': 'from-client',
        connection: 'keep-alive',
      },
      { ...client, fromTrustedProxy: false },
    );
    expect(headers).toEqual({
      authorization: 'Bearer t',
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-host': 'localhost:8080',
      'x-forwarded-proto': 'http',
      'x-real-ip': '127.0.0.1',
      'x-request-id': 'assigned',
    });
  });

  it('overwrites or drops every forwarding header a client that is not a trusted proxy sent', () => {
    const headers = upstreamRequestHeaders({ ...forged, accept: 'text/plain' }, { ...client, fromTrustedProxy: false });
    expect(headers).toEqual({
      accept: 'text/plain',
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-host': 'localhost:8080',
      'x-forwarded-proto': 'http',
      'x-real-ip': '127.0.0.1',
      'x-request-id': 'assigned',
    });
  });

  it('drops forged forwarding headers whatever their case, even with no peer address or host known', () => {
    const headers = upstreamRequestHeaders(
      { 'X-Forwarded-For': '10.0.0.1', Forwarded: 'for=10.0.0.1', 'X-Real-IP': '10.0.0.1' },
      { remoteAddress: undefined, requestId: 'r', host: undefined, fromTrustedProxy: false },
    );
    expect(headers).toEqual({ 'x-forwarded-proto': 'http', 'x-request-id': 'r' });
  });

  it('extends the chain of a trusted proxy: its client, then the proxy itself', () => {
    const headers = upstreamRequestHeaders(forged, { ...client, fromTrustedProxy: true });
    expect(headers).toEqual({
      ...forged,
      'x-forwarded-for': '10.0.0.1, 127.0.0.1',
      forwarded: 'for=10.0.0.1;proto=https, for=127.0.0.1',
      'x-request-id': 'assigned',
    });
  });

  it('fills in what a trusted proxy left out', () => {
    const headers = upstreamRequestHeaders({}, { ...client, remoteAddress: '::1', fromTrustedProxy: true });
    expect(headers).toEqual({
      'x-forwarded-for': '::1',
      'x-forwarded-host': 'localhost:8080',
      'x-forwarded-proto': 'http',
      'x-request-id': 'assigned',
    });
    const ipv6 = upstreamRequestHeaders({ forwarded: 'for=10.0.0.1' }, { ...client, remoteAddress: '::1', fromTrustedProxy: true });
    expect(ipv6.forwarded).toBe('for=10.0.0.1, for="[::1]"');
  });

  it('names an IPv4 peer of a dual-stack socket by its IPv4 address', () => {
    const headers = upstreamRequestHeaders({}, { ...client, remoteAddress: '::ffff:203.0.113.9', fromTrustedProxy: false });
    expect(headers['x-forwarded-for']).toBe('203.0.113.9');
    expect(headers['x-real-ip']).toBe('203.0.113.9');
  });

  it.each([false, true])('never forwards trace context or baggage headers (trusted proxy: %s)', (fromTrustedProxy) => {
    // The ServiceClient injects these from the request's context, which infra fills only for trusted callers.
    const headers = upstreamRequestHeaders(
      {
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        tracestate: 'vendor=x',
        baggage: 'user=alice',
        'uber-trace-id': 'abc:def:0:1',
        'uberctx-user': 'alice',
        'jaeger-debug-id': 'force',
        'jaeger-baggage': 'user=alice',
        b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1',
        'x-b3-traceid': '80f198ee56343ba864fe8b2a57d3eff7',
        'x-custom': 'kept',
      },
      { ...client, fromTrustedProxy },
    );
    expect(Object.keys(headers).sort()).toEqual(
      ['x-custom', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-request-id', ...(fromTrustedProxy ? [] : ['x-real-ip'])].sort(),
    );
  });
});

describe('clientResponseHeaders', () => {
  it('passes content headers and leaves length and identity to the gateway', () => {
    const headers = clientResponseHeaders({
      'content-type': 'application/octet-stream',
      'content-length': '8',
      'x-served-by': 'rng-host-1234',
      'x-request-id': 'r',
      connection: 'close',
      'keep-alive': 'timeout=6',
      'cache-control': 'no-store',
    });
    expect(headers).toEqual({ 'content-type': 'application/octet-stream', 'cache-control': 'no-store' });
  });

  it('keeps every Set-Cookie as its own entry, commas in Expires and all', () => {
    const cookies = ['a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Path=/', 'b=2; HttpOnly'];
    const headers = clientResponseHeaders({ 'set-cookie': cookies, vary: 'accept', 'content-type': 'text/plain' });
    expect(headers).toEqual({ 'set-cookie': cookies, vary: 'accept', 'content-type': 'text/plain' });
  });

  it('makes a single Set-Cookie a one-entry list and still joins other repeated headers', () => {
    expect(clientResponseHeaders({ 'Set-Cookie': 'only=1', vary: ['accept', 'origin'] })).toEqual({
      'set-cookie': ['only=1'],
      vary: 'accept, origin',
    });
  });

  it('drops a Set-Cookie the Connection header names as hop-by-hop', () => {
    expect(clientResponseHeaders({ connection: 'set-cookie', 'set-cookie': ['a=1'] })).toEqual({});
  });
});

describe('identity claims a client sends', () => {
  const claims = {
    'x-user-id': 'admin',
    'x-user': 'admin',
    'x-userid': 'admin',
    'x-authenticated-user': 'admin',
    'x-authenticated-userid': 'admin',
    'x-auth-user': 'admin',
    'x-remote-user': 'admin',
    'remote-user': 'admin',
    'x-forwarded-user': 'admin',
    'x-forwarded-email': 'admin@example.com',
    'x-consumer-id': 'admin',
    'x-jwt-claims': '{"sub":"admin"}',
  };

  it.each([false, true])('never reach an upstream, even through a trusted proxy (%s); Authorization does, unchanged', (fromTrustedProxy) => {
    const headers = upstreamRequestHeaders(
      { ...claims, authorization: 'Bearer a.b.c', 'x-username-hint': 'kept?', accept: 'application/json' },
      { remoteAddress: '127.0.0.1', requestId: 'r', host: 'h', fromTrustedProxy },
    );
    for (const name of Object.keys(claims)) expect(headers, name).not.toHaveProperty(name);
    expect(headers.authorization).toBe('Bearer a.b.c');
    expect(headers.accept).toBe('application/json');
  });
});
