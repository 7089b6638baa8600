/**
 * Chaos scenario 2: a rolling stop. Under a steady mixed load (rng, profile, feed, sends), one
 * instance of every service in turn gets SIGTERM: rng, auth, social, messenger, then a gateway
 * (the load reaches two gateways as through a health-checked load balancer). Each deregisters
 * first, its callers drop it within milliseconds, then it drains what it was doing. Target: 0
 * failed requests, and every acknowledged message stored and delivered once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChaosStack } from './support/chaos-stack.js';
import { recordResult } from './support/report.js';

describe('chaos 2: SIGTERM one instance of every service in turn', () => {
  const chaos = new ChaosStack({ counts: { auth: 2, social: 2, messenger: 2, rng: 2 }, gateways: 2, liveSockets: 2 });
  beforeAll(() => chaos.start(), 180_000);
  afterAll(() => chaos.teardown(), 60_000);

  it('fails no request and loses no message', async () => {
    const load = chaos.load(40, ['rng', 'me', 'feed', 'send']).start();
    const stopTimes: Record<string, number> = {};
    try {
      await load.answered(40);
      for (const service of ['rng', 'auth', 'social', 'messenger', 'gateway'] as const) {
        const victim = service === 'gateway' ? chaos.gateways[0]! : chaos.instances[service][0]!;
        const started = Date.now();
        const exit = await (service === 'gateway' ? chaos.stopGateway(0) : victim.process.stop('SIGTERM'));
        stopTimes[service] = Date.now() - started;
        expect(exit, `${victim.serviceId} exit`).toEqual({ code: 0, signal: null });
        // Some load on what is left before the next one goes.
        await load.answered(40);
      }
    } finally {
      await load.stop();
    }
    const summary = load.summary();
    const ledger = await chaos.messageLedger(load.acknowledged);
    recordResult({
      number: 2,
      scenario: 'SIGTERM one instance of every service in turn (rng, auth, social, messenger, gateway)',
      target: '0 failed requests',
      failed: summary.failed,
      requests: summary.requests,
      lost: ledger.lost + ledger.undelivered,
      duplicated: ledger.duplicated,
      measured: {
        ...Object.fromEntries(Object.entries(stopTimes).map(([service, ms]) => [`${service} stop took (ms)`, ms])),
        'p99 (ms)': summary.p99Ms,
        'connections refused, sent to the other gateway': load.edgeRetries,
      },
      met: summary.failed === 0 && ledger.lost + ledger.undelivered + ledger.duplicated === 0,
    });
    expect(summary.failuresByReason).toEqual({});
    expect(ledger).toEqual({ acknowledged: ledger.acknowledged, lost: 0, duplicated: 0, undelivered: 0 });
  }, 240_000);
});
