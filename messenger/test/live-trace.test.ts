/**
 * One sent message is one trace in the real Jaeger, across instances: the gateway's spans, the
 * messenger instance that took the POST (its server span, its MySQL commands, the live publish
 * and its Redis PUBLISH), and the delivery span (`live.deliver user`) on the OTHER messenger
 * instance, the one holding the recipient's socket, a child of the publish. The gateway trusts
 * the test's trace context (TRUSTED_PROXIES=127.0.0.1), so the trace id is known up front.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppStack, type AppUser } from '../../test/support/app-stack.js';
import type { Running } from '../../test/support/isolated-stack.js';
import { OTLP, ensureJaeger, serviceOf, tag, traceById, type JaegerSpan, type JaegerTrace } from '../../test/support/jaeger.js';
import { waitFor } from '../../test/support/wait.js';
import { LiveRecorder } from './support/live-recorder.js';

let available = false;
beforeAll(async () => {
  // Jaeger may still be building on a fresh machine: skip then, but start it when it is there.
  available = await ensureJaeger();
}, 90_000);

describe('a sent message in Jaeger (gateway → messenger → MySQL → Redis publish → delivery on the other instance)', () => {
  const app = new AppStack({ OTEL_EXPORTER_OTLP_ENDPOINT: OTLP });
  let instances: Running[];
  let ana: AppUser;
  let bo: AppUser;
  let chatId: string;
  let boSocket: LiveRecorder | undefined;

  beforeAll(async () => {
    if (!available) return;
    ({ messenger: instances } = await app.start({ auth: 1, messenger: 2 }, { TRUSTED_PROXIES: '127.0.0.1' }));
    [ana, bo] = [await app.user('Ada'), await app.user('Grace')];
    const opened = await app.call('POST', '/api/v1/messenger/chats', { token: ana.accessToken, body: { peerId: bo.id } });
    expect(opened.status).toBe(201);
    chatId = opened.body.id;
  }, 120_000);
  afterAll(async () => {
    boSocket?.close();
    await app.teardown();
  });

  it('holds every hop, the delivery on the instance holding the socket', async (ctx) => {
    if (!available) ctx.skip();
    boSocket = new LiveRecorder(app.gateway.url, bo.accessToken);
    const holder = await boSocket.ready();

    // Round robin: within two sends, one reaches the instance that does not hold Bo's socket.
    let sent: { traceId: string; messageId: string; servedBy: string | null } | undefined;
    for (let i = 0; i < 4 && !sent; i++) {
      const traceId = randomBytes(16).toString('hex');
      const answer = await app.call('POST', `/api/v1/messenger/chats/${chatId}/messages`, {
        token: ana.accessToken,
        body: { text: `traced ${i}`, clientMessageId: randomUUID() },
        headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
      });
      expect(answer.status).toBe(201);
      await boSocket.hasAll([answer.body.id]);
      if (answer.servedBy !== holder) sent = { traceId, messageId: answer.body.id, servedBy: answer.servedBy };
    }
    expect(sent, 'a send taken by the instance without the socket').toBeDefined();
    const taker = instances.find((i) => i.serviceId === sent!.servedBy)!;
    expect(taker).toBeDefined();

    const gatewayName = app.stack.name('gateway');
    const messengerName = app.stack.name('messenger');
    const found = await waitFor(
      'the send trace with gateway, messenger, MySQL, Redis publish and the delivery',
      async () => {
        const trace = await traceById(sent!.traceId);
        if (!trace) return undefined;
        const parts = partsOf(trace, gatewayName, messengerName, bo.id);
        return parts.gatewayServer && parts.gatewayClient && parts.messengerServer && parts.mysql.length && parts.publish && parts.redisPublish && parts.deliver
          ? { trace, ...parts }
          : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    const { trace } = found;
    const instanceOf = (span: JaegerSpan) => trace.processes[span.processID]?.tags.find((t) => t.key === 'service.instance.id')?.value;

    // gateway → the instance that took the POST.
    expect(tag(found.gatewayClient!, 'switchyard.upstream.instance_id')).toBe(taker.serviceId);
    expect(found.messengerServer!.references).toContainEqual(
      expect.objectContaining({ refType: 'CHILD_OF', spanID: found.gatewayClient!.spanID, traceID: sent!.traceId }),
    );
    expect(instanceOf(found.messengerServer!)).toBe(taker.serviceId);
    // Its MySQL commands, the live publish and the Redis PUBLISH under it, on that instance.
    for (const span of [...found.mysql, found.publish!, found.redisPublish!]) expect(instanceOf(span)).toBe(taker.serviceId);
    expect(String(tag(found.redisPublish!, 'db.statement') ?? found.redisPublish!.operationName).toLowerCase()).toContain('publish');
    // The delivery: on the other instance, the one holding Bo's socket, a child of the publish.
    expect(instanceOf(found.deliver!)).toBe(holder);
    expect(holder).not.toBe(taker.serviceId);
    expect(found.deliver!.references).toContainEqual(expect.objectContaining({ refType: 'CHILD_OF', spanID: found.publish!.spanID, traceID: sent!.traceId }));
    // The token and the text never reach a span.
    expect(JSON.stringify(trace)).not.toContain(ana.accessToken);
    expect(JSON.stringify(trace)).not.toContain(bo.accessToken);
    expect(JSON.stringify(trace)).not.toContain('traced ');
  });
});

function partsOf(trace: JaegerTrace, gatewayName: string, messengerName: string, recipientId: string) {
  const of = (service: string) => trace.spans.filter((s) => serviceOf(trace, s) === service);
  const dbSystem = (s: JaegerSpan) => String(tag(s, 'db.system') ?? tag(s, 'db.system.name') ?? '');
  const messengerSpans = of(messengerName);
  // One publish per participant: Bo's topic is the one a socket hears.
  const publish = messengerSpans.find((s) => s.operationName === 'live.publish user' && tag(s, 'live.topic') === `user:${recipientId}`);
  const childOf = (parent: JaegerSpan | undefined) => (s: JaegerSpan) => parent !== undefined && s.references.some((r) => r.spanID === parent.spanID);
  return {
    gatewayServer: of(gatewayName).find((s) => tag(s, 'span.kind') === 'server'),
    // The JWKS fetch to auth may be in the trace too: the hop to messenger is the one naming it.
    gatewayClient: of(gatewayName).find((s) => tag(s, 'span.kind') === 'client' && tag(s, 'peer.service') === messengerName),
    messengerServer: messengerSpans.find((s) => tag(s, 'span.kind') === 'server'),
    mysql: messengerSpans.filter((s) => dbSystem(s) === 'mysql'),
    publish,
    redisPublish: messengerSpans.filter(childOf(publish)).find((s) => dbSystem(s) === 'redis'),
    deliver: messengerSpans.filter(childOf(publish)).find((s) => s.operationName === 'live.deliver user'),
  };
}
