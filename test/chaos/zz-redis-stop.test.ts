/**
 * Chaos scenario 7: Redis stopped for 10 s under a steady mixed load (rng, profile, feed reads,
 * sends) with live sockets open, then started again (runs last: it stops the shared Redis).
 *
 * Redis holds no truth here: social's feed cache (feeds are read from MySQL while it is down),
 * auth's sign-in throttling counters, the gateway's rate-limit counters, and the live events'
 * pub/sub. Targets: feed reads keep answering 200; live delivery degrades and resumes (after
 * Redis is back, every acknowledged message reaches every live socket: the client library
 * resumes with `since`); rate limiting behaves as gateway/src/rate-limits.ts documents (each
 * gateway instance counts alone in memory while Redis is down: limits still hold, per instance,
 * and no request fails or waits because of the limiter); nothing crashes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureUp, startComponent, stopComponent } from '../support/infra-control.js';
import { waitFor } from '../support/wait.js';
import { ChaosStack } from './support/chaos-stack.js';
import type { LoadKind } from './support/mixed-load.js';
import { answeredAt, failedPerKind, failingAnswers, firstSuccessAfter, lastFailureAfter } from './support/outage-figures.js';
import { burst } from './support/burst.js';
import { recordResult } from './support/report.js';
import { LiveClient } from '../../infra/test/support/live-clients.js';

/** The deliberate length of the outage. */
const OUTAGE_MS = 10_000;
const MIX: LoadKind[] = ['rng', 'me', 'feed', 'send'];
/**
 * A per-user allowance the load stays far under (its busiest user makes ~20 requests/s, a few
 * hundred in the scenario's window) and a probe user goes past while Redis is down.
 */
const USER_LIMIT = 1_000;
const PROBE_REQUESTS = USER_LIMIT + 100;

describe('chaos 7: Redis stopped for 10 s under load', () => {
  const chaos = new ChaosStack({
    counts: { auth: 1, social: 2, messenger: 2, rng: 2 },
    liveSockets: 2,
    envOf: { gateway: { RATE_LIMIT_USER_PER_MINUTE: String(USER_LIMIT) } },
  });
  beforeAll(async () => {
    await ensureUp('redis');
    await chaos.start();
  }, 180_000);
  afterAll(async () => {
    await ensureUp('redis');
    await chaos.teardown();
  }, 180_000);

  it('serves feeds from MySQL, resumes live delivery, limits per gateway instance, and nothing crashes', async () => {
    const everyone = [...chaos.gateways, ...Object.values(chaos.instances).flat()];
    const probeUser = await chaos.app.user('Pat');
    const load = chaos.load(40, MIX).start();
    let faultAt = 0;
    let downAt = 0;
    let backAt = 0;
    let probe: Awaited<ReturnType<typeof burst>> | undefined;
    let sendBackMs: number | undefined;
    let feedBackMs: number | undefined;
    let liveBackMs: number | undefined;
    // A live feed socket (social): it has no replay, so it must be told that events were missed.
    const feedSocket = new LiveClient(`ws://127.0.0.1:${chaos.gateways.at(-1)!.port}/api/v1/social/ws?access_token=${chaos.reader.accessToken}`);
    let feedClosed: { code: number; reason: string } | undefined;
    try {
      await feedSocket.opened;
      await feedSocket.next(); // its ready event
      void feedSocket.closed.then((closed) => (feedClosed = closed));
      await load.answered(40);
      faultAt = Date.now();
      await stopComponent('redis');
      downAt = Date.now();
      // While it is down: one user past its allowance (the gateway's in-memory fallback decides).
      probe = await burst(chaos.gateways[0]!.url, '/api/v1/auth/me', probeUser.accessToken, PROBE_REQUESTS, 16);
      // The rest of the outage, the one fixed wait: its length is the scenario.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, downAt + OUTAGE_MS - Date.now())));
      await startComponent('redis');
      backAt = Date.now();
      // A wait that times out leaves its figure undefined ('never'): the result is still recorded.
      sendBackMs = await firstSuccessAfter(load, 'send', backAt).catch(() => undefined);
      feedBackMs = await firstSuccessAfter(load, 'feed', backAt).catch(() => undefined);
      // Live delivery is back once every socket resumed and caught up with what was sent so far.
      const sentSoFar = [...load.acknowledged];
      await waitFor(
        'every live socket to catch up after Redis is back',
        () => chaos.live.every((socket) => {
          const got = new Set(socket.messageIds());
          return sentSoFar.every((id) => got.has(id));
        }),
        { timeoutMs: 30_000, intervalMs: 20 },
      ).then(
        () => (liveBackMs = Date.now() - backAt),
        () => undefined,
      );
      // A steady stretch after recovery: anything still failing shows in lastFailureAfter.
      await load.answered(120);
      await waitFor('the live feed socket to be closed', () => feedClosed, { timeoutMs: 10_000 }).catch(() => undefined);
    } finally {
      await load.stop();
      feedSocket.ws.terminate();
    }
    const all = load.summary();
    const outage = load.summary(downAt);
    const perKind = failedPerKind(load.outcomes, MIX);
    const failing = failingAnswers(
      load.outcomes.filter((o) => answeredAt(o) >= faultAt),
      MIX,
    );
    const recoveredAfterMs = Math.max(...MIX.map((kind) => lastFailureAfter(load.outcomes, kind, backAt)));
    const limited = load.outcomes.filter((o) => o.status === 429).length;
    const ledger = await chaos.messageLedger(load.acknowledged, 30_000);
    const reconnects = chaos.live.map((socket) => socket.disconnects.length);
    const exited = everyone.filter((r) => r.process.child.exitCode !== null || r.process.child.signalCode !== null);
    const probeAdmitted = probe ? probe.total - (probe.statuses[429] ?? 0) : 0;

    recordResult({
      number: 7,
      scenario: 'Redis stopped 10 s under load, live sockets open',
      target: 'feeds answer 200 (from MySQL); every acknowledged message reaches every live socket after; rate limits per gateway instance while down (documented); no process exits',
      failed: all.failed,
      requests: all.requests,
      lost: ledger.lost + ledger.undelivered,
      duplicated: ledger.duplicated,
      recoveryMs: liveBackMs ?? recoveredAfterMs,
      measured: {
        'back → every live socket caught up (ms)': liveBackMs ?? 'never',
        'back → last failed request (ms)': recoveredAfterMs,
        ...Object.fromEntries(MIX.map((kind) => [`failed ${kind}`, perKind[kind]])),
        'failing answers': Object.entries(failing.codes).map(([code, n]) => `${code} ×${n}`).join(', ') || 'none',
        'p99 from the stop on (ms)': outage.p99Ms,
        'back → first send 201 (ms)': sendBackMs ?? 'never',
        'back → first feed 200 (ms)': feedBackMs ?? 'never',
        'load answered 429': limited,
        [`probe user past ${USER_LIMIT}/min while down: admitted / 429`]: probe ? `${probeAdmitted} / ${probe.statuses[429] ?? 0}` : 'not run',
        'messages acknowledged': ledger.acknowledged,
        'undelivered to a live socket': ledger.undelivered,
        'socket reconnects': reconnects.join(', '),
        'processes exited': exited.length,
        'social feed socket closed with': feedClosed ? `${feedClosed.code} ${feedClosed.reason}` : 'not closed',
      },
      met:
        perKind.feed === 0 &&
        liveBackMs !== undefined &&
        ledger.lost + ledger.undelivered + ledger.duplicated === 0 &&
        limited === 0 &&
        (probe?.statuses[429] ?? 0) > 0 &&
        probeAdmitted <= USER_LIMIT &&
        exited.length === 0 &&
        feedClosed?.code === 1013,
      notes: 'recovery = Redis accepting connections again → every live socket has every message acknowledged so far (requests: see measured)',
    });

    expect(perKind.feed, `feed reads failed: ${JSON.stringify(failing.codes)}`).toBe(0);
    expect(feedClosed, 'the social feed socket was not told it missed events').toEqual({ code: 1013, reason: 'live_events_interrupted' });
    expect(ledger).toEqual({ acknowledged: ledger.acknowledged, lost: 0, duplicated: 0, undelivered: 0 });
    expect(liveBackMs, 'every live socket caught up after Redis was back').toBeDefined();
    expect(ledger.acknowledged).toBeGreaterThan(20);
    // The limiter never refuses or fails the load (it is far under its allowance) ...
    expect(limited).toBe(0);
    // ... and still holds while Redis is down: the insurance limiter counts in memory.
    expect(probe?.statuses[429] ?? 0, `probe statuses ${JSON.stringify(probe?.statuses)}`).toBeGreaterThan(0);
    expect(probeAdmitted).toBeLessThanOrEqual(USER_LIMIT);
    expect(exited.map((r) => r.serviceId)).toEqual([]);
    for (const r of everyone) r.process.assertRunning();
  }, 180_000);
});
