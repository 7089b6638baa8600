/**
 * The worker under rng failures, against real Consul and Redis: an rng instance killed with
 * SIGKILL mid-run (no deregistration, no drain) costs no crash and no count; an rng that is
 * passing but overloaded makes the worker back off, never fall back; and with every rng instance
 * gone the worker keeps mining on its local fallback and the webui says so.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { passingIds } from '../../test/support/consul.js';
import { MinerCluster, finalTotals, type Counters } from './miner-cluster.js';

interface WorkerStats {
  produced: Counters;
  failedIterations: number;
}

interface ApiStats {
  hashesPerSecond: number;
  hashes: number;
  fallback: { total: number; share: number };
  rng: { passing: string[]; shares: Record<string, number> };
  healthy: { rng: number; hasher: number; worker: number };
}

describe('miner under rng failures (real Consul + Redis)', () => {
  let cluster: MinerCluster;
  afterEach(async () => cluster?.close());

  it('survives an rng instance killed with SIGKILL and loses no count', { timeout: 120_000 }, async () => {
    cluster = new MinerCluster();
    const rngs = await cluster.startPassing('rng', 3);
    await cluster.startPassing('hasher', 1);
    const worker = await cluster.start('worker');
    await cluster.waitServedBy(rngs.map((r) => r.serviceId), 5);

    const [victim, ...survivors] = rngs;
    const atKill = await cluster.counters();
    await victim.process.stop('SIGKILL');

    // Consul notices through its own check; meanwhile the worker's retries and breaker cope.
    await cluster.waitPassing('rng', (ids) => !ids.includes(victim.serviceId));
    await cluster.waitFor('the survivors to keep serving', async () => {
      const now = await cluster.counters();
      return survivors.every((s) => (now.byRng[s.serviceId] ?? 0) >= (atKill.byRng[s.serviceId] ?? 0) + 20) && now;
    }, { timeoutMs: 30_000 });
    expect(worker.process.child.exitCode).toBeNull();

    const exit = await worker.process.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    const totals = finalTotals(worker.process.output());
    expect(totals, 'the worker logs its totals on shutdown').toBeDefined();
    expect(totals!.ok).toBe(true);

    // No lost (or doubled) count: Redis holds exactly what the worker produced.
    const stored = await cluster.counters();
    expect(stored.hashes).toBe(totals!.produced.hashes);
    expect(stored.fallback).toBe(totals!.produced.fallback);
    expect(stored.byRng).toEqual(totals!.produced.byRng);
    expect(stored.coins).toBe(totals!.produced.coins);
    const bySource = Object.values(stored.byRng).reduce((a, b) => a + b, 0) + stored.fallback;
    expect(bySource).toBe(stored.hashes);
    // Two healthy instances were left: the fallback was never needed.
    expect(stored.fallback).toBe(0);
    expect(worker.process.output()).not.toMatch(/fatal/);
  });

  it('backs off instead of falling back when the only rng is passing but overloaded', { timeout: 120_000 }, async () => {
    cluster = new MinerCluster();
    // One answer per 200 ms and one request allowed to wait: most of the worker's 16 lanes get
    // 503 rng_overloaded, and its breaker ejects the instance while Consul still lists it passing.
    const [rng] = await cluster.startPassing('rng', 1, { RNG_DELAY_MS: '200', RNG_QUEUE_LIMIT: '1' });
    await cluster.startPassing('hasher', 1);
    const worker = await cluster.start('worker');
    const rngFailures = (reason: string) =>
      cluster.metric(worker, 'miner_worker_failed_iterations_total', { upstream: 'rng', reason });

    const ejections = () =>
      cluster.metric(worker, 'switchyard_upstream_no_healthy_instance_total', { service: cluster.name('rng') });
    await cluster.waitFor('the worker to find the overloaded rng ejected', async () => (await ejections()) > 0, { timeoutMs: 30_000 });
    // The rng keeps serving what it can (its breaker half-opens again), all of it counted as its own.
    const stored = await cluster.waitServedBy([rng.serviceId], 10);

    const stats = await cluster.getJson<WorkerStats>(`${worker.url}/stats`);
    expect(stats.produced.fallback).toBe(0);
    expect(stored.fallback).toBe(0);
    expect(await cluster.metric(worker, 'switchyard_upstream_fallbacks_total')).toBe(0);
    // Overload is counted as failed iterations: the 503s, then the ejection.
    expect(stats.failedIterations).toBeGreaterThan(0);
    expect(await rngFailures('all_ejected')).toBeGreaterThan(0);
    expect(await rngFailures('bad_answer')).toBeGreaterThan(0);
    expect(await passingIds(cluster.name('rng'))).toContain(rng.serviceId);
    expect(worker.process.child.exitCode).toBeNull();
  });

  it('keeps mining on the local fallback when every rng instance is gone, and the webui shows it', { timeout: 120_000 }, async () => {
    cluster = new MinerCluster();
    const [rng] = await cluster.startPassing('rng', 1);
    await cluster.startPassing('hasher', 1);
    const worker = await cluster.start('worker');
    const webui = await cluster.start('webui', { PORT: '0', WEBUI_RATE_WINDOW_SECONDS: '4' });
    const stats = () => cluster.getJson<ApiStats>(`${webui.url}/api/stats`);

    await cluster.waitFor('the webui to see rng serving', async () => {
      const s = await stats();
      return s.rng.passing.includes(rng.serviceId) && (s.rng.shares[rng.serviceId] ?? 0) > 0 && s.hashesPerSecond > 0 && s;
    }, { timeoutMs: 30_000 });

    await rng.process.stop('SIGKILL');

    const degraded = await cluster.waitFor('the webui to report mining on the fallback', async () => {
      const s = await stats();
      return s.rng.passing.length === 0 && s.healthy.rng === 0 && s.fallback.share > 0 && s.hashesPerSecond > 0 && s;
    }, { timeoutMs: 30_000 });
    expect(degraded.healthy.hasher).toBe(1);
    expect(degraded.healthy.worker).toBe(1);

    // Still mining, and only from the fallback now: the fallback counter alone keeps growing.
    const before = await cluster.counters();
    const later = await cluster.waitFor('more fallback hashes', async () => {
      const now = await cluster.counters();
      return now.fallback >= before.fallback + 20 && now;
    }, { timeoutMs: 30_000 });
    expect(later.hashes - before.hashes).toBe(later.fallback - before.fallback);
    expect(later.byRng).toEqual(before.byRng);
    expect(worker.process.child.exitCode).toBeNull();

    const json = await cluster.getJson<{ coins: number; hashes: number; now: number }>(`${webui.url}/json`);
    expect(json.hashes).toBeGreaterThanOrEqual(later.hashes);
    expect(json.coins).toBeGreaterThanOrEqual(later.coins);
    expect(Math.abs(json.now - Date.now() / 1000)).toBeLessThan(5);
  });
});
