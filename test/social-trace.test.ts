/**
 * One feed request through the public gateway is one trace in the real Jaeger: the gateway's
 * server and client spans, social's server span, and social's MySQL and Redis commands, each
 * process naming its Consul instance. The gateway trusts the test's trace context because the
 * test is its configured proxy (TRUSTED_PROXIES=127.0.0.1), so the trace id is known up front.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppStack, type AppUser } from './support/app-stack.js';
import { OTLP, ensureJaeger, serviceOf, tag, traceById, type JaegerSpan, type JaegerTrace } from './support/jaeger.js';
import type { Running } from './support/isolated-stack.js';
import { waitFor } from './support/wait.js';

let available = false;
beforeAll(async () => {
  // Jaeger may still be building on a fresh machine: skip then, but start it when it is there.
  available = await ensureJaeger();
}, 90_000);

describe('a feed request in Jaeger (gateway → social → MySQL and Redis)', () => {
  const app = new AppStack({ OTEL_EXPORTER_OTLP_ENDPOINT: OTLP });
  let social: Running;
  let reader: AppUser;

  beforeAll(async () => {
    if (!available) return;
    ({ social: [social] } = await app.start({ auth: 1, social: 1 }, { TRUSTED_PROXIES: '127.0.0.1' }));
    const [author, friend] = [await app.user('Ada'), await app.user('Grace')];
    await app.befriend(author, friend);
    const posted = await app.call('POST', '/api/v1/social/posts', { token: author.accessToken, body: { text: 'traced post' } });
    expect(posted.status).toBe(201);
    reader = friend;
  }, 120_000);
  afterAll(() => app.teardown());

  it('holds the gateway, social and its store commands, each process naming its instance', async (ctx) => {
    if (!available) ctx.skip();
    const traceId = randomBytes(16).toString('hex');
    const answer = await app.call('GET', '/api/v1/social/feed', {
      token: reader.accessToken,
      headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
    });
    expect(answer.status).toBe(200);
    expect(answer.body.items.map((p: { text: string }) => p.text)).toEqual(['traced post']);

    const gatewayName = app.stack.name('gateway');
    const socialName = app.stack.name('social');
    const found = await waitFor(
      'the feed trace with gateway, social, MySQL and Redis spans',
      async () => {
        const trace = await traceById(traceId);
        if (!trace) return undefined;
        const parts = partsOf(trace, gatewayName, socialName);
        return parts.gatewayServer && parts.gatewayClient && parts.socialServer && parts.mysql.length && parts.redis.length
          ? { trace, ...parts }
          : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );

    // The gateway's call names the social instance it went to, and social's span is its child.
    expect(tag(found.gatewayClient!, 'switchyard.upstream.instance_id')).toBe(social.serviceId);
    expect(found.socialServer!.references).toContainEqual(
      expect.objectContaining({ refType: 'CHILD_OF', spanID: found.gatewayClient!.spanID, traceID: traceId }),
    );
    // The store commands were made by social while serving this request (children of its work).
    const socialSpanIds = new Set(found.trace.spans.filter((s) => serviceOf(found.trace, s) === socialName).map((s) => s.spanID));
    for (const command of [...found.mysql, ...found.redis]) {
      expect(serviceOf(found.trace, command)).toBe(socialName);
      expect(command.references.some((r) => socialSpanIds.has(r.spanID))).toBe(true);
    }
    // Every process of the trace names its Consul instance.
    const instances = Object.fromEntries(
      Object.values(found.trace.processes).map((p) => [p.serviceName, p.tags.find((t) => t.key === 'service.instance.id')?.value]),
    );
    expect(instances[socialName]).toBe(social.serviceId);
    expect(instances[gatewayName]).toBe(app.gateway.serviceId);
    // The access token never reaches a span.
    expect(JSON.stringify(found.trace)).not.toContain(reader.accessToken);
  });
});

function partsOf(trace: JaegerTrace, gatewayName: string, socialName: string) {
  const of = (service: string) => trace.spans.filter((s) => serviceOf(trace, s) === service);
  const kind = (spans: JaegerSpan[], value: string) => spans.find((s) => tag(s, 'span.kind') === value);
  const dbSystem = (s: JaegerSpan) => String(tag(s, 'db.system') ?? tag(s, 'db.system.name') ?? '');
  const socialSpans = of(socialName);
  return {
    gatewayServer: kind(of(gatewayName), 'server'),
    // The JWKS fetch to auth may be in the trace too: the hop to social is the one naming social.
    gatewayClient: of(gatewayName).find((s) => tag(s, 'span.kind') === 'client' && tag(s, 'peer.service') === socialName),
    socialServer: kind(socialSpans, 'server'),
    mysql: socialSpans.filter((s) => dbSystem(s) === 'mysql'),
    redis: socialSpans.filter((s) => dbSystem(s) === 'redis'),
  };
}
