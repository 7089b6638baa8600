/**
 * Chaos scenario 8: one of three rng instances turns slow, then recovers, under a steady rng load
 * through the gateway. Two kinds of slow, because the platform sees them differently:
 *
 *  A. A stalled process (support/stall.ts: SIGSTOP 3 s / SIGCONT 0.5 s, four times), as in a long
 *     GC pause or CPU starvation. Its health endpoint stalls with it, so Consul's check (1 s
 *     timeout, every 2 s) usually drops it before any request's attempt timeout (2.5 s) expires,
 *     and a caller forgets the breaker of an instance that left the passing list: the breaker
 *     rarely gets to open. Measured: who took it out, and when.
 *  B. A gray failure (support/latency-proxy.ts: 3 s added to every answer of one instance, its
 *     health endpoint untouched, as a latency toxic on its network path). Consul sees nothing;
 *     only the callers' attempt timeouts and breakers can. This is where the breaker's 'ejected'
 *     and 'back' are measured.
 *
 * Why not a second rng instance with RNG_DELAY_MS=2000: its slowness cannot be lifted without a
 * restart (a new instance id, so "re-admitted" could not be seen), and 2 s is under the route's
 * 2.5 s attempt timeout: such answers are slow but successful, and no breaker counts them (the
 * breakers count failures, not latency). B adds 3 s, just past the attempt timeout, instead.
 *
 * Targets: the load's p99 stays within one attempt timeout and a retry elsewhere, nothing fails;
 * the gateway's breaker ejects the slow instance (B); after recovery it is re-admitted and serves
 * traffic again (A and B).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Running } from '../support/isolated-stack.js';
import { waitFor } from '../support/wait.js';
import { ChaosStack } from './support/chaos-stack.js';
import { LatencyProxy } from './support/latency-proxy.js';
import type { Outcome } from './support/mixed-load.js';
import { recordResult } from './support/report.js';
import { resume, stall } from './support/stall.js';
import { firstEvent } from './support/upstream-events.js';

/** The rng route's attempt timeout (gateway/src/routes/miner.ts). */
const ATTEMPT_TIMEOUT_MS = 2_500;
/** One attempt timed out, then a retry on a healthy instance: what a bounded p99 allows. */
const P99_BOUND_MS = ATTEMPT_TIMEOUT_MS + 1_000;
const STALLS = { stoppedMs: 3_000, runningMs: 500, cycles: 4 };
/**
 * B's added latency (past the attempt timeout) and how long it lasts: past one breaker reset (5 s)
 * after the ejection, which takes ~7 s at this rate (the successes of the breaker's 10 s window
 * before the fault dilute the failures until they roll out).
 */
const GRAY_DELAY_MS = 3_000;
const GRAY_FOR_MS = 13_000;

const p = (outcomes: readonly Outcome[], q: number) => {
  const sorted = outcomes.map((o) => o.latencyMs).sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
};
const after = (at: number | undefined, from: number) => (at === undefined ? 'never' : at - from);

describe('chaos 8: one of three rng instances turns slow, then recovers', () => {
  const chaos = new ChaosStack({ counts: { rng: 2 } });
  let behindProxy: Running;
  let proxy: LatencyProxy;
  beforeAll(async () => {
    await chaos.start();
    const stack = chaos.app.stack;
    // The third instance: a real rng registered under a name nobody calls, reached through the proxy.
    behindProxy = await stack.start('rng', { SERVICE_NAME_SUFFIX: `${stack.suffix}-behind-proxy` });
    proxy = await new LatencyProxy(behindProxy, stack.name('rng')).start();
    await stack.waitPassing('rng', (ids) => ids.length === 3 && ids.includes(proxy.serviceId));
  }, 180_000);
  afterAll(async () => {
    for (const r of chaos.instances?.rng ?? []) resume(r);
    await proxy?.stop();
    await chaos.teardown();
  }, 60_000);

  /** Waits until a call through the gateway is answered by `instance` (it is back in rotation); when. */
  const servedAgain = (servedBy: string) =>
    waitFor(
      `${servedBy} to serve through the gateway again`,
      async () => ((await chaos.app.call('GET', '/api/v1/rng/8')).servedBy === servedBy ? Date.now() : undefined),
      { timeoutMs: 30_000, intervalMs: 50 },
    ).catch(() => undefined);

  it('keeps p99 within one attempt timeout and a retry, ejects the slow instance and re-admits it', async () => {
    const gateway = chaos.gateways[0]!;
    const stalled = chaos.instances.rng[0]!;
    const load = chaos.load(30, ['rng']).start();
    const a = { faultAt: 0, recoveredAt: 0, servedAt: undefined as number | undefined };
    const b = { faultAt: 0, recoveredAt: 0, servedAt: undefined as number | undefined, ejectedAt: undefined as number | undefined };
    try {
      await load.answered(60);
      // A: the stalled process.
      a.faultAt = Date.now();
      await stall(stalled, STALLS);
      a.recoveredAt = Date.now();
      a.servedAt = await servedAgain(stalled.serviceId);
      await load.answered(60);

      // B: the gray failure.
      b.faultAt = Date.now();
      proxy.delayMs = GRAY_DELAY_MS;
      b.ejectedAt = await waitFor('the gateway to eject the slow instance', () => firstEvent(gateway, proxy.serviceId, 'ejected', b.faultAt), {
        timeoutMs: GRAY_FOR_MS,
        intervalMs: 50,
      }).catch(() => undefined);
      // The rest of the fault's length, the one fixed wait: long enough for a half-open trial to fail.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, b.faultAt + GRAY_FOR_MS - Date.now())));
      proxy.delayMs = 0;
      b.recoveredAt = Date.now();
      b.servedAt = await servedAgain(behindProxy.serviceId);
      await load.answered(60);
    } finally {
      await load.stop();
    }
    const all = load.summary();
    const duringA = load.outcomes.filter((o) => o.at >= a.faultAt && o.at < a.recoveredAt);
    const duringB = load.outcomes.filter((o) => o.at >= b.faultAt && o.at < b.recoveredAt);
    const [p99A, p99B] = [p(duringA, 0.99), p(duringB, 0.99)];
    const events = {
      aEjected: await firstEvent(gateway, stalled.serviceId, 'ejected', a.faultAt),
      aLeft: await firstEvent(gateway, stalled.serviceId, 'left', a.faultAt),
      aJoined: await firstEvent(gateway, stalled.serviceId, 'joined', a.recoveredAt),
      bLeft: await firstEvent(gateway, proxy.serviceId, 'left', b.faultAt),
      bBack: await firstEvent(gateway, proxy.serviceId, 'back', b.recoveredAt),
    };
    const aOutAt = Math.min(events.aEjected ?? Infinity, events.aLeft ?? Infinity);

    const met =
      all.failed === 0 &&
      Math.max(p99A, p99B) <= P99_BOUND_MS &&
      Number.isFinite(aOutAt) &&
      a.servedAt !== undefined &&
      b.ejectedAt !== undefined &&
      events.bBack !== undefined &&
      b.servedAt !== undefined;
    recordResult({
      number: 8,
      scenario: 'one of 3 rng instances slow, then recovered: A stalled process (SIGSTOP 3 s / SIGCONT 0.5 s ×4); B gray failure (+3 s per answer, health untouched, 13 s)',
      target: `p99 ≤ attempt timeout + retry (${P99_BOUND_MS} ms), 0 failed; the breaker ejects the slow instance; re-admitted after it recovers`,
      failed: all.failed,
      requests: all.requests,
      recoveryMs: b.servedAt === undefined ? undefined : b.servedAt - b.recoveredAt,
      measured: {
        'A p99 / max while stalling (ms)': `${p99A} / ${p(duringA, 1)}`,
        'A breaker ejected after (ms)': after(events.aEjected, a.faultAt),
        'A Consul check dropped it after (ms)': after(events.aLeft, a.faultAt),
        'A recovered → passing again (ms)': after(events.aJoined, a.recoveredAt),
        'A recovered → served again (ms)': after(a.servedAt, a.recoveredAt),
        'B p99 / max while slow (ms)': `${p99B} / ${p(duringB, 1)}`,
        'B breaker ejected after (ms)': after(b.ejectedAt, b.faultAt),
        'B requests that waited out an attempt timeout': duringB.filter((o) => o.latencyMs >= ATTEMPT_TIMEOUT_MS).length,
        'B dropped by Consul': events.bLeft === undefined ? 'no' : `after ${events.bLeft - b.faultAt} ms`,
        'B recovered → breaker closed (back) (ms)': after(events.bBack, b.recoveredAt),
        'B recovered → served again (ms)': after(b.servedAt, b.recoveredAt),
      },
      met,
      notes: 'recovery = B: the added latency lifted → the instance served a request through the gateway again',
    });

    expect(all.failuresByReason).toEqual({});
    expect(p99A, 'p99 while a process stalls').toBeLessThanOrEqual(P99_BOUND_MS);
    expect(p99B, 'p99 while an instance answers 3 s late').toBeLessThanOrEqual(P99_BOUND_MS);
    expect(aOutAt - a.faultAt, 'the stalled instance out of rotation (breaker or Consul) within one attempt timeout and a check').toBeLessThan(4_000);
    expect(a.servedAt, 'the stalled instance serves again once it runs').toBeDefined();
    expect(b.ejectedAt, "the gateway's breaker ejected the slow instance").toBeDefined();
    expect(events.bLeft, 'Consul never saw the gray failure').toBeUndefined();
    expect(events.bBack, 'the breaker closed again after the latency was lifted').toBeDefined();
    expect(b.servedAt, 'the recovered instance serves again').toBeDefined();
  }, 180_000);
});
