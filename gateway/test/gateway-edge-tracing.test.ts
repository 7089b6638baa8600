/**
 * Trace context at the public edge, read back from the real Jaeger: a client's `traceparent` is
 * continued only when the gateway's socket peer is a trusted proxy (TRUSTED_PROXIES=127.0.0.1, as
 * the test runs on loopback); from anyone else (TRUSTED_PROXIES empty) the gateway starts a new
 * trace, links the client's, and its baggage never reaches the upstream. The upstream is the echo
 * fixture, which reports the headers it received.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OTLP, ensureJaeger, tag, traceById } from '../../test/support/jaeger.js';
import { waitFor } from '../../test/support/wait.js';
import { PrivateStack, get, json, type Running } from './upstreams.js';

/** The gateway's server span and the echo's server span of `traceId`, once Jaeger has both. */
async function gatewayAndEcho(traceId: string, suffix: string) {
  const trace = await traceById(traceId);
  if (!trace) return undefined;
  const serverOf = (service: string) =>
    trace.spans.find((s) => trace.processes[s.processID]?.serviceName === service && tag(s, 'span.kind') === 'server');
  const gateway = serverOf(`gateway${suffix}`);
  const echo = serverOf(`echo${suffix}`);
  return gateway && echo ? { trace, gateway, echo } : undefined;
}

/** A client's W3C trace context: a trace id and the id of its span that calls the gateway. */
function clientContext() {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

/** The trace id in a `traceparent` header. */
const traceIdOf = (traceparent: string | undefined) => traceparent?.split('-')[1];

let available = false;
beforeAll(async () => {
  // Jaeger may still be building on a fresh machine: skip then, but start it when it is there.
  available = await ensureJaeger();
}, 90_000);

describe('trace context at the gateway edge (real Jaeger)', () => {
  const stack = new PrivateStack();
  const traced = { OTEL_EXPORTER_OTLP_ENDPOINT: OTLP };
  let publicGateway: Running;
  let behindProxy: Running;

  /** Calls the echo's /headers through `gateway` and returns the headers the echo received. */
  const upstreamSaw = async (gateway: Running, headers: Record<string, string>) => {
    const answer = await get(gateway.port, '/test/headers', headers);
    expect(answer.status).toBe(200);
    return (json(answer) as { headers: Record<string, string> }).headers;
  };

  beforeAll(async () => {
    if (!available) return;
    [publicGateway, behindProxy] = await Promise.all([
      stack.start('gateway-with-echo', { ...traced, TRUSTED_PROXIES: '' }),
      stack.start('gateway-with-echo', { ...traced, TRUSTED_PROXIES: '127.0.0.1' }),
      stack.startPassing('echo', 1, traced),
    ]);
    for (const gateway of [publicGateway, behindProxy]) {
      await waitFor('the gateway to reach echo', async () => (await get(gateway.port, '/test/headers')).status === 200);
    }
  });
  afterAll(() => stack.stopAll());

  it('starts a new trace for a client that is not a trusted proxy, links its context and drops its baggage', async (ctx) => {
    if (!available) ctx.skip();
    const client = clientContext();
    const received = await upstreamSaw(publicGateway, {
      traceparent: client.traceparent,
      baggage: 'user=mallory,role=admin',
      'uberctx-user': 'mallory',
    });

    // The echo is called in the gateway's own, new trace, with no baggage in any format.
    const ours = traceIdOf(received.traceparent);
    expect(ours).toMatch(/^[0-9a-f]{32}$/);
    expect(ours).not.toBe(client.traceId);
    expect(Object.keys(received).filter((name) => name === 'baggage' || name.startsWith('uberctx-'))).toEqual([]);

    const found = await waitFor('the gateway trace in jaeger', () => gatewayAndEcho(ours!, stack.suffix), {
      timeoutMs: 20_000,
      intervalMs: 250,
    });
    // The gateway's server span is the root of its trace: no parent, only a link to the client's span.
    expect(found.gateway.references.filter((r) => r.refType === 'CHILD_OF')).toEqual([]);
    expect(found.gateway.references).toContainEqual(expect.objectContaining({ traceID: client.traceId, spanID: client.spanId }));
    // Behind the edge, services continue the gateway's trace as before.
    expect(found.echo.traceID).toBe(ours);
    // Nothing of ours was recorded in the client's trace.
    expect(await traceById(client.traceId)).toBeUndefined();
  });

  it("continues a trusted proxy's trace, baggage included", async (ctx) => {
    if (!available) ctx.skip();
    const client = clientContext();
    const received = await upstreamSaw(behindProxy, { traceparent: client.traceparent, baggage: 'tenant=acme' });

    expect(traceIdOf(received.traceparent)).toBe(client.traceId);
    expect(received.baggage).toContain('tenant=acme');

    const found = await waitFor('the continued trace in jaeger', () => gatewayAndEcho(client.traceId, stack.suffix), {
      timeoutMs: 20_000,
      intervalMs: 250,
    });
    expect(found.gateway.references).toContainEqual(
      expect.objectContaining({ refType: 'CHILD_OF', traceID: client.traceId, spanID: client.spanId }),
    );
  });
});
