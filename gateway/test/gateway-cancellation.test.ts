/**
 * A client that hangs up stops its call at once: the gateway cancels the upstream request, so
 * rng drops it from its queue, and nothing is retried on another instance for nobody.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateStack, get, metric, send, type Running } from './upstreams.js';

/**
 * One rng answer takes this long and instances serve one request at a time. It is below the
 * route's 2.5 s attempt timeout on purpose: otherwise the gateway's own timeout would also free
 * the queue before the running request ends, and the timing below could not tell the difference.
 */
const DELAY_MS = 1_000;
const ABANDONED = 6;

describe('gateway: a client that hangs up (real Consul)', () => {
  const stack = new PrivateStack();
  let gateway: Running;
  let rngs: Running[];

  const upstreamCalls = (labels: Record<string, string> = {}) =>
    metric(gateway.adminPort!, 'switchyard_upstream_requests_total', { service: `rng${stack.suffix}`, ...labels });

  beforeAll(async () => {
    [gateway, rngs] = await Promise.all([
      stack.start('gateway'),
      stack.startRngs(2, { RNG_DELAY_MS: String(DELAY_MS), RNG_QUEUE_LIMIT: '20' }),
    ]);
    await stack.waitFor('the gateway to see both rng instances', async () => {
      return (await metric(gateway.adminPort!, 'switchyard_watcher_healthy_instances', { service: `rng${stack.suffix}` })) === 2;
    });
  });
  afterAll(() => stack.stopAll());

  it('cancels the upstream call: rng drops the queued requests, no retry, no breaker verdict', async () => {
    // Six calls, three per instance: one runs there for DELAY_MS, two wait behind it. Each client
    // hangs up after 200 ms.
    const started = Date.now();
    const abandoned = Array.from({ length: ABANDONED }, () =>
      send(gateway.port, '/api/v1/rng/8', { signal: AbortSignal.timeout(200) }).then(
        () => 'answered',
        (error: Error) => error.name,
      ),
    );
    expect(await Promise.all(abandoned)).toEqual(Array(ABANDONED).fill('TimeoutError'));

    // The gateway saw every hang-up and cut its call short: one attempt each, all "cancelled".
    await stack.waitFor('six cancelled upstream calls', async () => (await upstreamCalls({ outcome: 'cancelled' })) === ABANDONED);

    // rng's queues hold nothing of them any more: a direct request waits for the one that is
    // running, then its own turn: under 2 turns. Had the abandoned ones stayed queued, it would
    // wait 2 more: about 4 turns less the few hundred ms since they were sent. The bound of 3
    // turns leaves a whole turn of margin to a slow machine.
    const timed = await Promise.all(
      rngs.map(async (rng) => {
        const sentAt = Date.now();
        const answer = await get(rng.port, '/8');
        return { status: answer.status, ms: Date.now() - sentAt };
      }),
    );
    for (const { status, ms } of timed) {
      expect(status).toBe(200);
      expect(ms).toBeLessThan(3 * DELAY_MS);
    }

    // The gateway serves the next clients normally, from either instance. They also carry us past
    // the route's 2.5 s attempt timeout: a call still alive would have timed out by then and been
    // retried on the other instance.
    let served = 0;
    while (Date.now() - started < 2_500 + 1_000) {
      const next = await get(gateway.port, '/api/v1/rng/8');
      expect(next.status).toBe(200);
      expect(rngs.map((r) => r.serviceId)).toContain(next.headers.get('x-served-by'));
      served += 1;
    }
    // Nothing but the six cancelled attempts and the answered ones: no timeout, no retry.
    expect(await upstreamCalls({ outcome: 'cancelled' })).toBe(ABANDONED);
    expect(await upstreamCalls()).toBe(ABANDONED + served);
    expect(await metric(gateway.adminPort!, 'switchyard_upstream_retries_total', { service: `rng${stack.suffix}` })).toBe(0);
    // Cancellations say nothing about the instances: both breakers stay closed (0).
    for (const rng of rngs) {
      expect(await metric(gateway.adminPort!, 'switchyard_upstream_breaker_state', { instance: rng.serviceId })).toBe(0);
    }
  });
});
