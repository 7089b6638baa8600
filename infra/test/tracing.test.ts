/**
 * Tracing end to end against the real Jaeger: a relay → echo hop yields one trace holding spans
 * of both services, the client span names the upstream instance it went to, and a caller's
 * `uber-trace-id` (the archived jaeger-client's header) is joined rather than replaced.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OTLP, ensureJaeger, serviceOf, tag, traceById, tracesOf, type JaegerTrace } from '../../test/support/jaeger.js';
import { stopAllProcesses } from '../../test/support/processes.js';
import { uniqueName, waitFor } from '../../test/support/wait.js';
import { startEcho, type EchoInstance } from './support/echo.js';

/** The trace when it holds a server span of each service and the relay's client span. */
function complete(trace: JaegerTrace | undefined, relayName: string, echoName: string) {
  if (!trace) return undefined;
  const services = new Set(trace.spans.map((s) => serviceOf(trace, s)));
  const client = trace.spans.find((s) => serviceOf(trace, s) === relayName && tag(s, 'span.kind') === 'client');
  const echoServer = trace.spans.find((s) => serviceOf(trace, s) === echoName && tag(s, 'span.kind') === 'server');
  if (!services.has(relayName) || !services.has(echoName) || !client || !echoServer) return undefined;
  return { trace, client, echoServer };
}

let available = false;
beforeAll(async () => {
  // Jaeger may still be building on a fresh machine: skip then, but start it when it is there.
  available = await ensureJaeger();
}, 90_000);
afterEach(stopAllProcesses);

describe('tracing (real Jaeger)', () => {
  let echoName: string;
  let relayName: string;
  let echo: EchoInstance;
  let relay: EchoInstance;

  async function startPair() {
    echoName = uniqueName('trace-echo');
    relayName = uniqueName('trace-relay');
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: OTLP };
    echo = await startEcho(echoName, env);
    relay = await startEcho(relayName, { ...env, UPSTREAM: echoName });
    // The relay routes only once its watcher has seen the echo instance.
    await waitFor('the relay to reach the echo instance', async () => (await fetch(`${relay.url}/relay`)).status === 200, {
      timeoutMs: 10_000,
    });
  }

  it('puts both services of one call in one trace, the client span naming the upstream instance', async (ctx) => {
    if (!available) ctx.skip();
    await startPair();
    const answer = await fetch(`${relay.url}/relay`);
    expect(answer.status).toBe(200);

    const found = await waitFor('a trace holding spans of both services', async () => {
      for (const trace of await tracesOf(relayName)) {
        const hit = complete(trace, relayName, echoName);
        if (hit) return hit;
      }
      return undefined;
    }, { timeoutMs: 20_000, intervalMs: 250 });

    expect(tag(found.client, 'switchyard.upstream.instance_id')).toBe(echo.serviceId);
    // The echo's server span is the child of the relay's client span (context crossed the wire).
    expect(found.echoServer.references).toContainEqual(
      expect.objectContaining({ refType: 'CHILD_OF', spanID: found.client.spanID, traceID: found.trace.traceID }),
    );
    // Each process names its Consul instance.
    const instanceIds = Object.values(found.trace.processes).map((p) => p.tags.find((t) => t.key === 'service.instance.id')?.value);
    expect(instanceIds).toEqual(expect.arrayContaining([echo.serviceId, relay.serviceId]));
  });

  it('joins the trace of an incoming uber-trace-id header', async (ctx) => {
    if (!available) ctx.skip();
    await startPair();
    const traceId = randomBytes(16).toString('hex');
    const parentSpanId = randomBytes(8).toString('hex');
    const answer = await fetch(`${relay.url}/relay`, { headers: { 'uber-trace-id': `${traceId}:${parentSpanId}:0:1` } });
    expect(answer.status).toBe(200);

    const found = await waitFor('the joined trace in jaeger', async () => complete(await traceById(traceId), relayName, echoName), {
      timeoutMs: 20_000,
      intervalMs: 250,
    });
    expect(found.trace.traceID).toBe(traceId);
    const relayServer = found.trace.spans.find((s) => serviceOf(found.trace, s) === relayName && tag(s, 'span.kind') === 'server')!;
    expect(relayServer.references).toContainEqual(expect.objectContaining({ spanID: parentSpanId, traceID: traceId }));
  });

  it('keeps the trace across a JSON body (the body parser must not lose the context)', async (ctx) => {
    if (!available) ctx.skip();
    await startPair();
    const traceId = randomBytes(16).toString('hex');
    const answer = await fetch(`${relay.url}/relay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
      body: JSON.stringify({ hello: 'world' }),
    });
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { got: unknown }).got).toEqual({ hello: 'world' });

    const found = await waitFor('the POST trace with both services', async () => complete(await traceById(traceId), relayName, echoName), {
      timeoutMs: 20_000,
      intervalMs: 250,
    });
    expect(tag(found.client, 'switchyard.upstream.instance_id')).toBe(echo.serviceId);
  });
});
