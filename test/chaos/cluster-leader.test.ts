/**
 * Chaos scenario 3 (cluster mode, `make chaos`): the Consul leader is `kill -9`ed under load.
 * Three servers and two client agents on loopback (scripts/cluster.sh); every process registers
 * and discovers through its own client agent (instances alternate between client-1 and
 * client-2), as in production. With Consul's default Raft timing a new leader takes ~15 s;
 * meanwhile default-consistency reads fail. Targets: 0 failed requests (discovery reads are
 * `?stale`, so any server answers), the time until a new leader, and a registration made during
 * the election lands afterwards (the client agent accepts it locally and syncs it once there is a
 * leader).
 */
import { describe, expect, it } from 'vitest';
import { passingIds } from '../support/consul.js';
import { waitFor } from '../support/wait.js';
import { clusterStack, killNode, leader } from './support/cluster.js';
import { recordResult } from './support/report.js';

describe('chaos 3: the Consul leader killed under load (cluster)', () => {
  const { chaos, agents } = clusterStack();

  it('fails no request through the election, and a registration made during it lands afterwards', async () => {
    const load = chaos.load(40, ['rng', 'me', 'feed', 'send']).start();
    let electionMs = 0;
    let landedAfterMs = 0;
    let newcomer = '';
    const faultAt = Date.now();
    try {
      await load.answered(40);
      const old = (await leader())!;
      expect(old).toBeDefined();
      await killNode(old);
      const killedAt = Date.now();
      // A new instance registers through client-2 while there is no leader.
      const joining = chaos.app.stack.start('rng', { CONSUL_HTTP_ADDR: agents[1]! });
      const elected = await waitFor('a new leader', () => leader(old), { timeoutMs: 60_000, intervalMs: 100 });
      electionMs = Date.now() - killedAt;
      newcomer = (await joining).serviceId;
      await waitFor('the instance registered during the election to be passing', async () => (await passingIds(chaos.app.stack.name('rng'), agents[0])).includes(newcomer), {
        timeoutMs: 30_000,
        intervalMs: 100,
      });
      landedAfterMs = Date.now() - killedAt - electionMs;
      expect(elected).not.toBe(old);
      await load.answered(80);
    } finally {
      await load.stop();
    }
    const summary = load.summary(faultAt);
    const ledger = await chaos.messageLedger(load.acknowledged);
    recordResult({
      number: 3,
      scenario: 'Consul leader `kill -9` (3 servers + 2 client agents; services through their own client agent)',
      target: '0 failed requests; time until a new leader; registrations made during the election land afterwards',
      failed: summary.failed,
      requests: summary.requests,
      lost: ledger.lost + ledger.undelivered,
      duplicated: ledger.duplicated,
      recoveryMs: electionMs,
      measured: {
        'new leader after (ms)': electionMs,
        'registration made during the election passing, after the election (ms)': landedAfterMs,
        'p99 (ms)': summary.p99Ms,
      },
      met: summary.failed === 0 && ledger.lost + ledger.undelivered + ledger.duplicated === 0,
      notes: 'recovery = kill → a new leader',
    });
    expect(summary.failuresByReason).toEqual({});
    expect(ledger).toEqual({ acknowledged: ledger.acknowledged, lost: 0, duplicated: 0, undelivered: 0 });
  }, 300_000);
});
