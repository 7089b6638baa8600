/**
 * The gateway as the public edge (real Consul, real processes): what a client says about itself in
 * forwarding and trace headers reaches upstreams only through a configured trusted proxy, and a
 * path parameter stays one segment of the upstream route it was given to, whatever it holds. The
 * upstream is the echo fixture, which reports the headers and the path it received.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcess } from '../../test/support/processes.js';
import { waitFor } from '../../test/support/wait.js';
import { rawExchange } from './raw-http.js';
import { PrivateStack, get, json, type Running } from './upstreams.js';

/** Everything a client could claim about where it came from, and trace context it could push. */
const CLAIMS = {
  'x-forwarded-for': '10.9.8.7',
  'x-forwarded-host': 'admin.internal',
  'x-forwarded-proto': 'https',
  'x-forwarded-port': '443',
  forwarded: 'for=10.9.8.7;proto=https',
  'x-real-ip': '10.9.8.7',
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  baggage: 'user=mallory',
  'uberctx-user': 'mallory',
  'uber-trace-id': '0af7651916cd43dd8448eb211c80319c:b7ad6b7169203331:0:1',
};

describe('gateway edge (real Consul)', () => {
  const stack = new PrivateStack();
  /** TRUSTED_PROXIES empty (the default): nobody is trusted, loopback included. */
  let publicGateway: Running;
  /** TRUSTED_PROXIES=127.0.0.1: the test plays a proxy in front of this one. */
  let behindProxy: Running;

  const echoHeaders = async (gateway: Running, headers: Record<string, string>) => {
    const answer = await get(gateway.port, '/test/headers', headers);
    expect(answer.status).toBe(200);
    return (json(answer) as { headers: Record<string, string> }).headers;
  };

  beforeAll(async () => {
    [publicGateway, behindProxy] = await Promise.all([
      stack.start('gateway-with-echo', { TRUSTED_PROXIES: '' }),
      stack.start('gateway-with-echo', { TRUSTED_PROXIES: '127.0.0.1' }),
      stack.startPassing('echo', 1),
    ]);
    for (const gateway of [publicGateway, behindProxy]) {
      await waitFor('the gateway to reach echo', async () => (await get(gateway.port, '/test/headers')).status === 200);
    }
  });
  afterAll(() => stack.stopAll());

  describe('forwarding headers', () => {
    it('replaces what a client that is not a trusted proxy says about itself', async () => {
      const received = await echoHeaders(publicGateway, CLAIMS);
      expect(received['x-forwarded-for']).toBe('127.0.0.1');
      expect(received['x-real-ip']).toBe('127.0.0.1');
      expect(received['x-forwarded-host']).toBe(`127.0.0.1:${publicGateway.port}`);
      expect(received['x-forwarded-proto']).toBe('http');
      expect(received).not.toHaveProperty('x-forwarded-port');
      expect(received).not.toHaveProperty('forwarded');
    });

    it('extends the chain of a trusted proxy and keeps what it states about the client', async () => {
      const received = await echoHeaders(behindProxy, CLAIMS);
      expect(received['x-forwarded-for']).toBe('10.9.8.7, 127.0.0.1');
      expect(received['x-forwarded-host']).toBe('admin.internal');
      expect(received['x-forwarded-proto']).toBe('https');
      expect(received['x-forwarded-port']).toBe('443');
      expect(received.forwarded).toBe('for=10.9.8.7;proto=https, for=127.0.0.1');
      expect(received['x-real-ip']).toBe('10.9.8.7');
    });

    it.each([
      ['not trusted', () => publicGateway],
      ['trusted', () => behindProxy],
    ])('never relays trace or baggage headers as such (peer %s; tracing off here)', async (_trust, gateway) => {
      const received = await echoHeaders(gateway(), CLAIMS);
      const traceHeaders = Object.keys(received).filter((name) => /^(traceparent|tracestate|baggage|uber-trace-id|uberctx-)/.test(name));
      expect(traceHeaders).toEqual([]);
    });

    it('refuses to start on a malformed TRUSTED_PROXIES entry, with one line naming it', async () => {
      const gateway = startProcess('gateway/test/fixtures/gateway-with-echo.ts', {
        SERVICE_NAME_SUFFIX: stack.suffix,
        TRUSTED_PROXIES: '10.0.0.1, proxy.internal',
      });
      const exit = await gateway.exited;
      expect(exit.code).toBe(1);
      const line = gateway.output().split('\n').find((l) => l.includes('TRUSTED_PROXIES'));
      expect(line).toContain('"proxy.internal" is not an IP address, a CIDR range or one of loopback');
    });
  });

  describe('path parameters', () => {
    /** The echo's report of the route a gateway path reached. */
    const reached = async (publicPath: string) => {
      const answer = await get(publicGateway.port, publicPath);
      return { status: answer.status, body: json(answer) as { route?: string; id?: string; url?: string; error?: { code: string } } };
    };

    // The public path as the client sends it → the parameter express decodes → the encoded upstream segment.
    it.each([
      ['..%2Fadmin', '../admin', '..%2Fadmin'],
      ['..%2F..%2Fadmin', '../../admin', '..%2F..%2Fadmin'],
      ['..%5Cadmin', '..\\admin', '..%5Cadmin'],
      ['a%2Fb', 'a/b', 'a%2Fb'],
      ['%3Fx', '?x', '%3Fx'],
      ['%23', '#', '%23'],
      ['%23%2F..%2Fadmin', '#/../admin', '%23%2F..%2Fadmin'],
      ['%252e%252e', '%2e%2e', '%252e%252e'],
      ['...', '...', '...'],
    ])('%s reaches /items/:id as one encoded segment, never another route', async (sent, id, segment) => {
      const { status, body } = await reached(`/test/items/${sent}`);
      expect(status).toBe(200);
      expect(body).toEqual({ route: 'item', id, url: `/items/${segment}` });
    });

    // fetch would resolve these dot-segments itself before sending: they go over a bare socket.
    it.each(['%2e%2e', '%2E%2E', '.%2e', '%2e', '..', '.'])('answers 400 itself for the dot-segment %s', async (sent) => {
      const answer = await rawExchange(publicGateway.port, {
        head: [`GET /test/items/${sent} HTTP/1.1`, `Host: 127.0.0.1:${publicGateway.port}`, 'Connection: close'],
      });
      expect(answer.status).toBe(400);
      // The gateway's own answer: the upstream was never called.
      expect(answer.headers['x-served-by']).toBe(publicGateway.serviceId);
      expect(JSON.parse(answer.body.toString()).error.code).toBe('invalid_request');
    });

    it('keeps a raw ../ in the public path from matching the parameter at all', async () => {
      const answer = await rawExchange(publicGateway.port, {
        head: ['GET /test/items/../admin HTTP/1.1', `Host: 127.0.0.1:${publicGateway.port}`, 'Connection: close'],
      });
      expect(answer.status).toBe(404);
      expect(answer.headers['x-served-by']).toBe(publicGateway.serviceId);
    });
  });
});
