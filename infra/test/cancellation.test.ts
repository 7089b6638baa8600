/**
 * Failures that say nothing about an instance must not eject it, against real echo instances in
 * the real Consul: a call its caller cancelled (RequestCancelled, no retry, no fallback), and an
 * attempt the overall deadline cut shorter than its normal timeout. Full-length timeouts still do.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RequestCancelled, UpstreamTimeout, metricsRegistry, type ServiceClient } from '@switchyard/infra';
import { stopAllProcesses } from '../../test/support/processes.js';
import { clientFor, closeInProcess, watchedEchoes, type EchoInstance } from './support/echo.js';

afterEach(async () => {
  await closeInProcess();
  await stopAllProcesses();
});

/** More calls than the breaker's volume threshold (5 by default), so it could reach a verdict. */
const CALLS = 8;

/** This process's switchyard_upstream_requests_total for `service`, by outcome. */
async function attemptsByOutcome(service: string): Promise<Record<string, number>> {
  const metric = await metricsRegistry.getSingleMetric('switchyard_upstream_requests_total')!.get();
  const counts: Record<string, number> = {};
  for (const { labels, value } of metric.values) {
    if (labels.service !== service) continue;
    counts[String(labels.outcome)] = (counts[String(labels.outcome)] ?? 0) + value;
  }
  return counts;
}

function breakerStates(client: ServiceClient, instances: EchoInstance[]): string[] {
  return instances.map((i) => client.breakerState(i.serviceId));
}

describe('cancellation (real instances)', () => {
  it('throws RequestCancelled when the signal aborts mid-call, retries nothing, and leaves the breakers closed', async () => {
    const { name, instances, watcher } = await watchedEchoes('cancel', 2);
    // With a fallback, to show a cancelled call is not answered by it: nobody is waiting for an answer.
    let fallbacks = 0;
    const client = clientFor(watcher, {
      attemptTimeoutMs: 5_000,
      fallback: () => {
        fallbacks += 1;
        return { status: 200, headers: {}, body: Buffer.from('fallback'), fromFallback: true };
      },
    });

    for (let i = 0; i < CALLS; i++) {
      const started = Date.now();
      const error = await client.get('/slow?ms=30000', { signal: AbortSignal.timeout(100) }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RequestCancelled);
      expect(error).toMatchObject({ status: 499, code: 'client_closed_request', service: name });
      // Ended by the cancellation (100 ms), not by the 5 s attempt timeout nor the 30 s answer.
      expect(Date.now() - started).toBeLessThan(2_500);
    }

    // One attempt per call, each "cancelled": an idempotent GET was not retried on the other instance.
    expect(await attemptsByOutcome(name)).toEqual({ cancelled: CALLS });
    expect(fallbacks).toBe(0);
    expect(breakerStates(client, instances)).toEqual(['closed', 'closed']);

    // Both instances are still in rotation and answer.
    const servedBy = new Set<string>();
    for (let i = 0; i < 4; i++) servedBy.add((await client.get('/whoami')).instance!.id);
    expect(servedBy).toEqual(new Set(instances.map((i) => i.serviceId)));
  });

  it('throws RequestCancelled without any attempt when the signal is already aborted', async () => {
    const { name, watcher } = await watchedEchoes('precancel', 1);
    const client = clientFor(watcher);
    const controller = new AbortController();
    controller.abort();
    await expect(client.get('/whoami', { signal: controller.signal })).rejects.toBeInstanceOf(RequestCancelled);
    expect(await attemptsByOutcome(name)).toEqual({});
  });
});

describe('timeouts and the breaker (real instances)', () => {
  it('does not open the breaker for attempts the deadline cut short', async () => {
    const { name, instances, watcher } = await watchedEchoes('deadline', 1);
    // A normal attempt may take 2 s; each call's deadline leaves it only 300 ms.
    const client = clientFor(watcher, { attemptTimeoutMs: 2_000 });
    for (let i = 0; i < CALLS; i++) {
      await expect(client.get('/slow?ms=1500', { deadlineMs: 300 })).rejects.toBeInstanceOf(UpstreamTimeout);
    }
    expect(await attemptsByOutcome(name)).toEqual({ timeout: CALLS });
    expect(breakerStates(client, instances)).toEqual(['closed']);
    expect((await client.get('/whoami')).status).toBe(200);
  });

  it('opens the breaker for full-length timeouts: the instance itself is too slow', async () => {
    const { name, instances, watcher } = await watchedEchoes('fulltimeout', 1);
    const client = clientFor(watcher, { attemptTimeoutMs: 300 });
    for (let i = 0; i < CALLS; i++) {
      // Once open, the breaker ejects the only instance: the call fails at once with 503.
      await client.get('/slow?ms=1500', { deadlineMs: 5_000 }).catch(() => undefined);
    }
    const attempts = await attemptsByOutcome(name);
    expect(attempts.timeout).toBeGreaterThanOrEqual(5);
    expect(breakerStates(client, instances)).toEqual(['open']);
  });
});
