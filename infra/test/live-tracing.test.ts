/**
 * One trace across the live fan-out (real Jaeger, Redis, processes): a request to instance B that
 * publishes an event yields B's server span, its `live.publish` span with the Redis PUBLISH under
 * it, and instance A's `live.deliver` span as a child of that publish span: the trace context
 * travels inside the pub/sub payload.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IsolatedStack, type Running } from '../../test/support/isolated-stack.js';
import { OTLP, ensureJaeger, serviceOf, traceById, type JaegerTrace } from '../../test/support/jaeger.js';
import { LiveClient, jwksOf, testKey, tokenFor, type TestKey } from './support/live-clients.js';

const ENTRIES = { auth: 'infra/test/fixtures/jwks-service.ts', live: 'infra/test/support/live-service.ts' };

describe('live delivery tracing (real Jaeger)', () => {
  const stack = new IsolatedStack(ENTRIES, { OTEL_EXPORTER_OTLP_ENDPOINT: OTLP });
  let available = false;
  let key: TestKey;
  let a: Running;
  let b: Running;

  beforeAll(async () => {
    // Jaeger may still be building on a fresh machine: skip then.
    available = await ensureJaeger();
    if (!available) return;
    key = await testKey();
    await stack.startPassing('auth', 1, { FIXTURE_JWKS: jwksOf(key) });
    [a, b] = await Promise.all([stack.start('live'), stack.start('live')]);
  }, 90_000);
  afterAll(() => stack.stopAll());

  it("parents the receiving instance's delivery span on the publisher's span, in the publisher's trace", async (ctx) => {
    if (!available) ctx.skip();
    const client = await stack.waitFor('a socket on instance A', async () => {
      const attempt = new LiveClient(`ws://127.0.0.1:${a.port}/ws?access_token=${await tokenFor(key, 'traced')}`);
      try {
        await attempt.opened;
        await attempt.nextOfType('subscribed');
        return attempt;
      } catch {
        attempt.ws.terminate();
        return undefined;
      }
    });
    const traceId = randomBytes(16).toString('hex');
    const response = await fetch(`${b.url}/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
      body: JSON.stringify({ topic: 'user:traced', event: { type: 'message', id: '1' } }),
    });
    expect(response.status).toBe(200);
    expect(await client.nextOfType('message')).toMatchObject({ id: '1' });
    client.ws.close(1000);

    const liveName = stack.name('live');
    const found = await stack.waitFor('the trace with the delivery span', async () => {
      const trace = await traceById(traceId);
      const deliver = trace?.spans.find((s) => s.operationName === 'live.deliver user');
      const publish = trace?.spans.find((s) => s.operationName === 'live.publish user');
      return trace && deliver && publish && { trace, deliver, publish };
    }, { timeoutMs: 20_000, intervalMs: 250 });
    const { trace, deliver, publish } = found as { trace: JaegerTrace; deliver: JaegerTrace['spans'][0]; publish: JaegerTrace['spans'][0] };
    expect(deliver.references).toContainEqual(expect.objectContaining({ refType: 'CHILD_OF', spanID: publish.spanID, traceID: traceId }));
    expect(serviceOf(trace, publish)).toBe(liveName);
    expect(serviceOf(trace, deliver)).toBe(liveName);
    // Published by B, delivered by A: two processes of one service.
    const instanceOf = (span: JaegerTrace['spans'][0]) => trace.processes[span.processID]?.tags.find((t) => t.key === 'service.instance.id')?.value;
    expect(instanceOf(publish)).toBe(b.serviceId);
    expect(instanceOf(deliver)).toBe(a.serviceId);
    // The Redis command is inside the publish span.
    const redisPublish = trace.spans.find((s) => s.references.some((r) => r.spanID === publish.spanID) && /publish/i.test(s.operationName) && s !== deliver);
    expect(redisPublish, JSON.stringify(trace.spans.map((s) => s.operationName))).toBeDefined();
  });
});
