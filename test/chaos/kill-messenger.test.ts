/**
 * Chaos scenario 1: `kill -9` one of three messenger instances under a steady mixed load through
 * the gateway (sends with idempotency keys, feed reads, rng) with live sockets open. Targets:
 * 0 failed requests (a send that hit the dead instance is retried on another one: the key makes
 * it safe), 0 lost and 0 duplicated messages on every socket, and the gateway's breaker ejects the
 * instance before Consul's check marks it critical. The check runs every 2 s at a phase of its
 * own: when it happens to run within milliseconds of the kill, before any request reached the
 * dead instance, Consul is first and no breaker needs to open; so the assertion is that the
 * instance is out of rotation within a second, and the result says which of the two took it out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.js';
import { ChaosStack } from './support/chaos-stack.js';
import { recordResult } from './support/report.js';
import { firstEvent } from './support/upstream-events.js';

describe('chaos 1: kill -9 one of three messenger instances', () => {
  const chaos = new ChaosStack({ counts: { auth: 1, social: 1, messenger: 3, rng: 2 }, liveSockets: 3 });
  beforeAll(() => chaos.start(), 180_000);
  afterAll(() => chaos.teardown(), 60_000);

  it('loses no request and no message; the breaker ejects the instance before Consul notices', async () => {
    const gateway = chaos.gateways[0]!;
    const load = chaos.load(40, ['send', 'rng', 'send', 'feed']).start();
    await load.answered(80);
    const victim = chaos.instances.messenger[0]!;
    const faultAt = Date.now();
    await victim.process.stop('SIGKILL');
    // Consul's check fails within its interval (2 s) and timeout: the gateway's watcher drops it.
    const leftAt = await waitFor('the gateway to see the instance leave Consul', () => firstEvent(gateway, victim.serviceId, 'left', faultAt), {
      timeoutMs: 20_000,
      intervalMs: 100,
    });
    await load.answered(200);
    await load.stop();
    const ejectedAt = await firstEvent(gateway, victim.serviceId, 'ejected', faultAt);
    const summary = load.summary(faultAt);
    const all = load.summary();
    const ledger = await chaos.messageLedger(load.acknowledged);

    const outAfterMs = Math.min(ejectedAt ?? Infinity, leftAt) - faultAt;
    const ejectedBy = ejectedAt !== undefined && ejectedAt <= leftAt ? 'the breaker' : 'Consul';
    recordResult({
      number: 1,
      scenario: '`kill -9` one of 3 messenger instances',
      target: '0 failed idempotent requests; 0 lost / 0 duplicated; breaker ejects before Consul marks it critical',
      failed: all.failed,
      requests: all.requests,
      lost: ledger.lost + ledger.undelivered,
      duplicated: ledger.duplicated,
      recoveryMs: summary.recoveryMs,
      measured: {
        'breaker ejected after (ms)': ejectedAt === undefined ? 'never' : ejectedAt - faultAt,
        'Consul dropped it after (ms)': leftAt - faultAt,
        'p99 after the kill (ms)': summary.p99Ms,
        'out of rotation by': ejectedBy,
        'messages acknowledged': ledger.acknowledged,
      },
      met: all.failed === 0 && ledger.lost + ledger.undelivered + ledger.duplicated === 0 && outAfterMs < 1_000,
    });

    expect(all.failuresByReason).toEqual({});
    expect(ledger).toEqual({ acknowledged: ledger.acknowledged, lost: 0, duplicated: 0, undelivered: 0 });
    expect(ledger.acknowledged).toBeGreaterThan(50);
    // A refused connection ejects at once (evidence 'gone'), so the breaker is first unless
    // Consul's check ran before any request reached the dead instance.
    expect(outAfterMs, `ejected by the breaker after ${ejectedAt === undefined ? 'never' : ejectedAt - faultAt} ms, dropped by Consul after ${leftAt - faultAt} ms`).toBeLessThan(1_000);
  }, 180_000);
});
