import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { FixedInstancer, ServiceClient, z, type Logger } from '@switchyard/infra';
import { waitFor } from '../../test/support/wait.js';
import { proxyHandler, relayedContentLength } from './proxy.js';
import { defineRoute, path, type GatewayRoute } from './route-table.js';

/**
 * `upstream` listening as the one instance of `service`, and a public GET route `/api/<service>`
 * to its `/<service>`.
 */
async function oneInstanceRoute(service: string, upstream: Server): Promise<{ client: ServiceClient; route: GatewayRoute }> {
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const instance = { id: `${service}-1`, service, address: '127.0.0.1', port: (upstream.address() as AddressInfo).port, tags: [], meta: {} };
  const route = defineRoute({
    method: 'GET',
    path: `/api/${service}`,
    service,
    params: z.object({}),
    upstreamPath: () => path`/${service}`,
    auth: 'public',
    docs: { summary: 'test route' },
    timeouts: { attemptTimeoutMs: 30_000, deadlineMs: 60_000 },
  });
  return { client: new ServiceClient(service, new FixedInstancer(service, [instance])), route };
}

async function closeAll(client: ServiceClient, ...servers: Server[]): Promise<void> {
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
  await client.close();
}

describe('the length and body the gateway relays', () => {
  it("relays the upstream's length for an answer with a body, and none when it sent none (chunked)", () => {
    expect(relayedContentLength(200, '32')).toBe('32');
    expect(relayedContentLength(404, undefined)).toBeUndefined();
  });

  it('passes the upstream length through for HEAD and 304, which have no body', () => {
    expect(relayedContentLength(200, '32')).toBe('32');
    expect(relayedContentLength(304, '1234')).toBe('1234');
    // Unknown upstream length: none rather than a false 0.
    expect(relayedContentLength(200, undefined)).toBeUndefined();
  });

  it('never states a length for 204 or 1xx, even when the upstream did', () => {
    expect(relayedContentLength(204, '0')).toBeUndefined();
    expect(relayedContentLength(103, '10')).toBeUndefined();
  });
});

describe('the log line of a call the client abandoned', () => {
  it('names the upstream path without the query string, which may carry secrets', async () => {
    // Every line as it would be serialised, whatever its level.
    const lines: string[] = [];
    const record = (fields: object, msg?: string) => void lines.push(JSON.stringify({ ...fields, msg }));
    const logger = { debug: record, info: record, warn: record, error: record } as unknown as Logger;
    let upstreamGotIt = false;
    const upstream = createServer((req) => {
      // Never answers: the client will give up first.
      upstreamGotIt = req.url === '/search?token=s3cr3t';
    });
    const { client, route } = await oneInstanceRoute('search', upstream);
    const proxy = proxyHandler(route, client, { logger });
    const gateway = createServer((req, res) => {
      const at = req.url!.indexOf('?');
      void proxy(req, res, { params: {}, query: at === -1 ? '' : req.url!.slice(at), requestId: 'r1', fromTrustedProxy: false });
    }).listen(0, '127.0.0.1');
    await new Promise((resolve) => gateway.once('listening', resolve));
    try {
      const gone = new AbortController();
      const call = fetch(`http://127.0.0.1:${(gateway.address() as AddressInfo).port}/api/search?token=s3cr3t`, { signal: gone.signal });
      await waitFor('the upstream to receive the call, query and all', () => upstreamGotIt);
      gone.abort();
      await expect(call).rejects.toThrow();
      const line = await waitFor('the cancellation log line', () => lines.find((l) => l.includes('client went away')));
      expect(JSON.parse(line)).toMatchObject({ service: 'search', path: '/search' });
      expect(lines.join('\n')).not.toContain('s3cr3t');
    } finally {
      await closeAll(client, gateway, upstream);
    }
  });
});

describe('an answer whose headers cannot all be set', () => {
  it("answers the error with the gateway's own headers only: the upstream's taken off, the ones they replaced put back", async () => {
    const upstream = createServer((_req, res) => {
      res.setHeader('set-cookie', 'session=upstream');
      res.setHeader('access-control-allow-origin', '*');
      res.setHeader('x-refused', 'by the test');
      res.setHeader('x-after', 'upstream');
      res.end('<html>upstream</html>');
    });
    const { client, route } = await oneInstanceRoute('page', upstream);
    // respond is what makes the proxy note the gateway's own headers the upstream's replace.
    const proxy = proxyHandler(route, client, { respond: () => {} });
    const gateway = createServer((req, res) => {
      res.setHeader('x-served-by', 'gateway-1');
      res.setHeader('access-control-allow-origin', 'https://app.example');
      res.setHeader('x-after', 'gateway');
      // Node refuses some header values; this stands in for one of them.
      const setHeader = res.setHeader.bind(res);
      res.setHeader = ((name: string, value: string | number | readonly string[]) => {
        if (name === 'x-refused') throw new TypeError('invalid header value');
        return setHeader(name, value);
      }) as typeof res.setHeader;
      proxy(req, res, { params: {}, query: '', requestId: 'r1', fromTrustedProxy: false }).catch((error: Error) => {
        res.statusCode = 502;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ error: { code: 'bad_gateway', message: error.message } }));
      });
    }).listen(0, '127.0.0.1');
    await new Promise((resolve) => gateway.once('listening', resolve));
    try {
      const answer = await fetch(`http://127.0.0.1:${(gateway.address() as AddressInfo).port}/api/page`);
      expect(answer.status).toBe(502);
      expect(await answer.json()).toEqual({ error: { code: 'bad_gateway', message: 'invalid header value' } });
      expect(answer.headers.get('set-cookie')).toBe(null);
      expect(answer.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(answer.headers.get('x-served-by')).toBe('gateway-1');
      // Never reached by the copy: still the gateway's own.
      expect(answer.headers.get('x-after')).toBe('gateway');
    } finally {
      await closeAll(client, gateway, upstream);
    }
  });
});

describe("the dispatch's answer headers (ProxiedRequest.answerHeaderPairs)", () => {
  /**
   * Proxies every request through `client` as the dispatch does: its answer headers as pairs
   * (counted) for a header block, and set one by one (counted apart) for an answer of the gateway's.
   */
  async function gatewayFor(client: ServiceClient, route: GatewayRoute): Promise<{ server: Server; url: string; pairs: () => number; set: () => number }> {
    let pairs = 0;
    let set = 0;
    const respond = (error: unknown, _req: unknown, res: ServerResponse) => {
      res.statusCode = 502;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ error: { message: (error as Error).message } }));
    };
    const proxy = proxyHandler(route, client, { respond });
    const server = createServer((req, res) => {
      const answerHeaderPairs = (servedBy: string, into: string[]) => {
        pairs += 1;
        into.push('x-served-by', servedBy, 'x-answer-headers', String(pairs), 'x-frame-options', 'DENY', 'x-gateway', 'gateway-1');
      };
      const answerHeaders = (_req: unknown, response: ServerResponse) => {
        set += 1;
        response.setHeader('x-served-by', 'gateway-1');
        response.setHeader('x-gateway', 'gateway-1');
        response.setHeader('x-frame-options', 'DENY');
      };
      proxy(req, res, { params: {}, query: '', requestId: 'r1', fromTrustedProxy: false, answerHeaderPairs, answerHeaders }).catch((error: unknown) => respond(error, req, res));
    }).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${route.path}`, pairs: () => pairs, set: () => set };
  }

  it("go into an upstream answer's header block once, where the upstream's own header of a name wins", async () => {
    const upstream = createServer((_req, res) => {
      res.setHeader('x-frame-options', 'SAMEORIGIN');
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.end('upstream');
    });
    const { client, route } = await oneInstanceRoute('echo', upstream);
    const gateway = await gatewayFor(client, route);
    try {
      for (let i = 1; i <= 3; i++) {
        const answer = await fetch(gateway.url);
        expect(await answer.text()).toBe('upstream');
        // Each request's own call ran once: the count the answer carries is the running total.
        expect(answer.headers.get('x-answer-headers')).toBe(String(i));
        expect(answer.headers.get('x-frame-options')).toBe('SAMEORIGIN');
        expect(answer.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
        expect(answer.headers.get('x-served-by')).toBe('echo-1');
        expect(answer.headers.get('x-gateway')).toBe('gateway-1');
        expect(answer.headers.get('content-length')).toBe('8');
      }
      expect(gateway.pairs()).toBe(3);
      expect(gateway.set()).toBe(0);
    } finally {
      await closeAll(client, gateway.server, upstream);
    }
  });

  it("go into a fallback's answer the same way", async () => {
    const route = defineRoute({
      method: 'GET',
      path: '/api/none',
      service: 'none',
      params: z.object({}),
      upstreamPath: () => path`/none`,
      auth: 'public',
      docs: { summary: 'test route' },
      timeouts: { attemptTimeoutMs: 1_000, deadlineMs: 2_000 },
    });
    const client = new ServiceClient('none', new FixedInstancer('none', []), {
      fallback: () => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: Buffer.from('fallback'), fromFallback: true }),
    });
    const gateway = await gatewayFor(client, route);
    try {
      const answer = await fetch(gateway.url);
      expect(await answer.text()).toBe('fallback');
      expect(answer.headers.get('x-answer-headers')).toBe('1');
      expect(answer.headers.get('x-served-by')).toBe('none');
      expect(gateway.pairs()).toBe(1);
    } finally {
      await closeAll(client, gateway.server);
    }
  });

  it("are set one by one on the gateway's own answer when the upstream's is lost before its first byte, with nothing of the upstream's", async () => {
    const upstream = createServer((_req, res) => {
      res.writeHead(200, { 'content-length': '100', 'set-cookie': 'session=upstream', 'x-upstream-only': 'yes' });
      res.flushHeaders();
      // Closed after the headers, in order (no reset that could overtake them): the body falls short.
      res.socket!.end();
    });
    const { client, route } = await oneInstanceRoute('echo', upstream);
    const gateway = await gatewayFor(client, route);
    try {
      const answer = await fetch(gateway.url);
      expect(answer.status).toBe(502);
      expect(answer.headers.get('set-cookie')).toBe(null);
      expect(answer.headers.get('x-upstream-only')).toBe(null);
      expect(answer.headers.get('x-served-by')).toBe('gateway-1');
      expect(answer.headers.get('x-frame-options')).toBe('DENY');
      expect(gateway.set()).toBe(1);
    } finally {
      await closeAll(client, gateway.server, upstream);
    }
  });

  it("answer a header node refuses with the gateway's own answer, nothing of the upstream's on it", async () => {
    const upstream = createServer((_req, res) => {
      res.setHeader('set-cookie', 'session=upstream');
      res.end('upstream');
    });
    const { client, route } = await oneInstanceRoute('echo', upstream);
    const gateway = await gatewayFor(client, route);
    // Node refuses some header values (ERR_INVALID_CHAR); this stands in for one of them.
    gateway.server.prependListener('request', (_req: unknown, res: ServerResponse) => {
      const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
      res.writeHead = ((status: number, headers?: unknown) => {
        if (Array.isArray(headers) && headers.includes('set-cookie')) throw new TypeError('invalid header value');
        return writeHead(status, headers);
      }) as typeof res.writeHead;
    });
    try {
      const answer = await fetch(gateway.url);
      expect(answer.status).toBe(502);
      expect(await answer.json()).toMatchObject({ error: { message: expect.stringContaining('invalid header value') } });
      expect(answer.headers.get('set-cookie')).toBe(null);
      expect(answer.headers.get('x-served-by')).toBe('gateway-1');
      expect(gateway.set()).toBe(1);
    } finally {
      await closeAll(client, gateway.server, upstream);
    }
  });
});
