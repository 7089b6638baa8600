/**
 * Chaos scenario 5: the dev-mode Consul agent restarted under load (runs last: it stops the
 * shared agent). A `-dev` agent keeps nothing: it comes back knowing no service at all. Targets:
 * 0 failed requests (callers keep their last lists through the outage and distrust the first
 * empty answers), and every instance registered and passing again within 2 s of the agent being
 * back (each registrar checks its registration every second and re-registers by itself).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passingIds } from '../support/consul.js';
import { ensureUp, startComponent, stopComponent } from '../support/infra-control.js';
import { waitFor } from '../support/wait.js';
import { ChaosStack } from './support/chaos-stack.js';
import { recordResult } from './support/report.js';

describe('chaos 5: the dev-mode Consul agent restarted under load', () => {
  const chaos = new ChaosStack({ counts: { auth: 1, social: 1, messenger: 2, rng: 2 }, liveSockets: 2 });
  beforeAll(async () => {
    await ensureUp('consul');
    await chaos.start();
  }, 180_000);
  afterAll(async () => {
    await ensureUp('consul');
    await chaos.teardown();
  }, 180_000);

  it('fails no request, and every instance is registered again within 2 s', async () => {
    const everyone = [...chaos.gateways, ...Object.values(chaos.instances).flat()];
    const names = ['gateway', 'auth', 'social', 'messenger', 'rng'].map((service) => chaos.app.stack.name(service));
    const load = chaos.load(40, ['rng', 'me', 'feed', 'send']).start();
    let backAt = 0;
    let registeredAfterMs = 0;
    const faultAt = Date.now();
    try {
      await load.answered(40);
      await stopComponent('consul');
      // Down for a few seconds of load.
      await load.answered(80);
      await startComponent('consul');
      backAt = Date.now();
      await waitFor(
        'every instance passing in the restarted agent',
        async () => {
          const passing = new Set((await Promise.all(names.map((name) => passingIds(name)))).flat());
          return everyone.every((r) => passing.has(r.serviceId));
        },
        { timeoutMs: 30_000, intervalMs: 50 },
      );
      registeredAfterMs = Date.now() - backAt;
      await load.answered(80);
    } finally {
      await load.stop();
    }
    const summary = load.summary(faultAt);
    const ledger = await chaos.messageLedger(load.acknowledged);
    recordResult({
      number: 5,
      scenario: 'dev-mode Consul restarted under load',
      target: '0 failed requests; every service registered again ≤ 2 s',
      failed: summary.failed,
      requests: summary.requests,
      lost: ledger.lost + ledger.undelivered,
      duplicated: ledger.duplicated,
      recoveryMs: registeredAfterMs,
      measured: { 'agent back → all instances passing (ms)': registeredAfterMs, 'p99 (ms)': summary.p99Ms },
      met: summary.failed === 0 && registeredAfterMs <= 2_000 && ledger.lost + ledger.undelivered + ledger.duplicated === 0,
      notes: 'recovery = agent back → every instance passing again',
    });
    expect(summary.failuresByReason).toEqual({});
    expect(ledger).toEqual({ acknowledged: ledger.acknowledged, lost: 0, duplicated: 0, undelivered: 0 });
    expect(registeredAfterMs).toBeLessThanOrEqual(2_000);
  }, 240_000);
});
