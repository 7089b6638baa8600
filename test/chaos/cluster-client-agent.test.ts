/**
 * Chaos scenario 4 (cluster mode, `make chaos`): a client agent is `kill -9`ed under load. The
 * services registered through it keep running, but Consul's serfHealth check of that node fails
 * once gossip notices, and every caller must then see them as gone and route to the instances on
 * the other agent, with 0 failed idempotent requests. When the agent comes back, the services
 * behind it must be registered and passing again within 2 s, by themselves (nobody restarts
 * them: each registrar checks its registration every second).
 */
import { describe, expect, it } from 'vitest';
import { passingIds } from '../support/consul.js';
import { waitFor } from '../support/wait.js';
import { clusterStack, killNode, startCluster } from './support/cluster.js';
import { recordResult } from './support/report.js';

describe('chaos 4: a client agent killed under load (cluster)', () => {
  const { chaos, agents } = clusterStack();

  it('routes around the services behind the dead agent, and they are back within 2 s of it', async () => {
    const behind = Object.values(chaos.instances).map((list) => list[1]!);
    const services = ['auth', 'social', 'messenger', 'rng'];
    const passingEverywhere = async () => new Set((await Promise.all(services.map((s) => passingIds(chaos.app.stack.name(s), agents[0])))).flat());
    const load = chaos.load(40, ['rng', 'me', 'feed', 'send']).start();
    let goneAfterMs = 0;
    let backAfterMs = 0;
    const faultAt = Date.now();
    try {
      await load.answered(40);
      await killNode('client-2');
      const killedAt = Date.now();
      await waitFor('Consul to drop the services behind the dead agent', async () => {
        const passing = await passingEverywhere();
        return behind.every((r) => !passing.has(r.serviceId));
      }, { timeoutMs: 60_000, intervalMs: 100 });
      goneAfterMs = Date.now() - killedAt;
      await load.answered(80);
      await startCluster('client-2');
      const agentBackAt = Date.now();
      await waitFor('the services behind the agent passing again', async () => {
        const passing = await passingEverywhere();
        return behind.every((r) => passing.has(r.serviceId));
      }, { timeoutMs: 30_000, intervalMs: 50 });
      backAfterMs = Date.now() - agentBackAt;
      await load.answered(80);
    } finally {
      await load.stop();
    }
    for (const r of behind) r.process.assertRunning();
    const summary = load.summary(faultAt);
    const ledger = await chaos.messageLedger(load.acknowledged);
    recordResult({
      number: 4,
      scenario: 'a client agent `kill -9` (the services behind it keep running), then started again',
      target: 'callers route to the others with 0 failed idempotent requests; those services re-registered ≤ 2 s after the agent is back',
      failed: summary.failed,
      requests: summary.requests,
      lost: ledger.lost + ledger.undelivered,
      duplicated: ledger.duplicated,
      recoveryMs: backAfterMs,
      measured: {
        'Consul dropped the services behind it after (ms)': goneAfterMs,
        'agent back → its services passing (ms)': backAfterMs,
        'p99 (ms)': summary.p99Ms,
      },
      met: summary.failed === 0 && backAfterMs <= 2_000 && ledger.lost + ledger.undelivered + ledger.duplicated === 0,
      notes: 'recovery = agent back (answering, 5 members alive) → its services passing',
    });
    expect(summary.failuresByReason).toEqual({});
    expect(ledger).toEqual({ acknowledged: ledger.acknowledged, lost: 0, duplicated: 0, undelivered: 0 });
    expect(backAfterMs).toBeLessThanOrEqual(2_000);
  }, 300_000);
});
