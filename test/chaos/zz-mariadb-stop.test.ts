/**
 * Chaos scenario 6: MariaDB stopped for 10 s under a steady mixed load (rng, profile, feed reads,
 * sends), then started again (runs last: it stops the shared database). Targets: the routes that
 * need MySQL fail fast and cleanly while it is down (503 JSON with an error code, within 2 s:
 * the pool's bounded wait and the readiness probe taking instances out of Consul), the route that
 * does not (rng) fails nothing, the services recover by themselves once it is back (no restart:
 * every process is the one started before the outage), and no acknowledged message is missing.
 * Sends during the outage are expected to fail (503): only acknowledged ones are owed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureUp, startComponent, stopComponent } from '../support/infra-control.js';
import { ChaosStack } from './support/chaos-stack.js';
import type { LoadKind } from './support/mixed-load.js';
import { answeredAt, failedPerKind, failingAnswers, firstSuccessAfter, lastFailureAfter } from './support/outage-figures.js';
import { recordResult } from './support/report.js';

/** The deliberate length of the outage. */
const OUTAGE_MS = 10_000;
const MIX: LoadKind[] = ['rng', 'me', 'feed', 'send'];
const AFFECTED: LoadKind[] = ['me', 'feed', 'send'];

describe('chaos 6: MariaDB stopped for 10 s under load', () => {
  const chaos = new ChaosStack({ counts: { auth: 1, social: 1, messenger: 2, rng: 2 }, liveSockets: 2 });
  beforeAll(async () => {
    await ensureUp('mariadb');
    await chaos.start();
  }, 180_000);
  afterAll(async () => {
    await ensureUp('mariadb');
    await chaos.teardown();
  }, 180_000);

  it('answers 503 JSON within 2 s on the routes that need it, keeps rng whole, recovers without restarts, loses nothing acknowledged', async () => {
    const everyone = [...chaos.gateways, ...Object.values(chaos.instances).flat()];
    const load = chaos.load(40, MIX).start();
    let faultAt = 0;
    let downAt = 0;
    let backAt = 0;
    const recovery: Partial<Record<LoadKind, number>> = {};
    try {
      await load.answered(40);
      faultAt = Date.now();
      await stopComponent('mariadb');
      downAt = Date.now();
      // The outage itself: the one fixed wait, its length is the scenario.
      await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
      await startComponent('mariadb');
      backAt = Date.now();
      // A wait that times out leaves its figure undefined ('never'): the result is still recorded.
      for (const kind of AFFECTED) recovery[kind] = await firstSuccessAfter(load, kind, backAt).catch(() => undefined);
      // A steady stretch after recovery: anything still failing shows in lastFailureAfter.
      await load.answered(120);
    } finally {
      await load.stop();
    }
    const all = load.summary();
    const duringFault = load.outcomes.filter((o) => answeredAt(o) >= faultAt);
    const failing = failingAnswers(duringFault, AFFECTED);
    const perKind = failedPerKind(load.outcomes, MIX);
    const recoveredAfterMs = Math.max(...AFFECTED.map((kind) => lastFailureAfter(load.outcomes, kind, backAt)));
    const ledger = await chaos.messageLedger(load.acknowledged);
    // Recovery must come from the processes started before the outage: none exited (to be restarted).
    const restarted = everyone.filter((r) => r.process.child.exitCode !== null || r.process.child.signalCode !== null).length;

    const met =
      perKind.rng === 0 &&
      failing.notClean === 0 &&
      failing.maxLatencyMs <= 2_000 &&
      ledger.lost === 0 &&
      restarted === 0 &&
      AFFECTED.every((kind) => recovery[kind] !== undefined);
    recordResult({
      number: 6,
      scenario: 'MariaDB stopped 10 s under load',
      target: 'affected routes 503 JSON within 2 s; 0 rng failures; recovery without restarts; 0 acknowledged messages lost',
      failed: all.failed,
      requests: all.requests,
      lost: ledger.lost,
      duplicated: ledger.duplicated,
      recoveryMs: recoveredAfterMs,
      measured: {
        ...Object.fromEntries(MIX.map((kind) => [`failed ${kind}`, perKind[kind]])),
        'slowest failing answer (ms)': failing.maxLatencyMs,
        'failing answers': Object.entries(failing.codes).map(([code, n]) => `${code} ×${n}`).join(', '),
        'stop took (ms)': downAt - faultAt,
        'back → first send 201 (ms)': recovery.send ?? 'never',
        'back → first feed 200 (ms)': recovery.feed ?? 'never',
        'back → first profile 200 (ms)': recovery.me ?? 'never',
        'messages acknowledged': ledger.acknowledged,
        'undelivered to a live socket': ledger.undelivered,
        'processes restarted': restarted,
      },
      met,
      notes: 'recovery = MariaDB accepting connections again → the last failed request of any kind',
    });

    expect(perKind.rng, 'rng needs no database: none may fail').toBe(0);
    expect(failing.codes, 'every failing answer a 503 with a JSON error code').toEqual(
      Object.fromEntries(Object.entries(failing.codes).filter(([code]) => /^503 [a-z_]+$/.test(code) && !code.endsWith('no_json'))),
    );
    expect(failing.maxLatencyMs, 'a failing answer within 2 s').toBeLessThanOrEqual(2_000);
    for (const kind of AFFECTED) expect(recovery[kind], `a ${kind} succeeded again once MariaDB was back`).toBeDefined();
    expect(restarted, 'no process restarted or exited').toBe(0);
    for (const r of everyone) r.process.assertRunning();
    expect(ledger.lost, 'acknowledged messages missing from the history').toBe(0);
    expect(ledger.duplicated).toBe(0);
    expect(ledger.acknowledged).toBeGreaterThan(20);
  }, 180_000);
});
