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
  it('forwards end-to-end headers, replaces what the gateway owns and adds X-Forwarded-*', () => {
    const headers = upstreamRequestHeaders(
      {
        host: 'localhost:8080',
        'content-length': '12',
        traceparent: '00-abc-def-01',
        authorization: 'Bearer t',
        'x-forwarded-for': '10.0.0.1',
        'x-request-id': 'from-client',
        connection: 'keep-alive',
      },
      { remoteAddress: '127.0.0.1', requestId: 'assigned', host: 'localhost:8080' },
    );
    expect(headers).toEqual({
      authorization: 'Bearer t',
      'x-forwarded-for': '10.0.0.1, 127.0.0.1',
      'x-forwarded-host': 'localhost:8080',
      'x-forwarded-proto': 'http',
      'x-request-id': 'assigned',
    });
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
