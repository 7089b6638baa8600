/**
 * The lesson of dockercoins, against real Consul and Redis: rng serves one request at a time, so
 * one instance caps the whole miner; the worker finds new rng instances through Consul and
 * round-robins over them, so hashes/s grows with the number of rng instances.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MinerCluster } from './miner-cluster.js';

const WINDOW_MS = 5_000;

describe('miner scaling with rng instances (real Consul + Redis)', () => {
  let cluster: MinerCluster;
  afterEach(async () => cluster?.close());

  it('mines at least twice as fast with 3 rng instances as with 1', { timeout: 120_000 }, async () => {
    cluster = new MinerCluster({ RNG_DELAY_MS: '50' }); // one instance: at most 20 requests/s
    const [first] = await cluster.startPassing('rng', 1);
    await cluster.startPassing('hasher', 1);
    await cluster.start('worker');

    await cluster.waitServedBy([first.serviceId], 10); // warmed up: queues filled, flushes flowing
    const oneRng = await cluster.measureRate(WINDOW_MS);

    const more = await cluster.startPassing('rng', 2);
    const ids = [first.serviceId, ...more.map((r) => r.serviceId)];
    const before = await cluster.counters();
    // Warmed up again: the worker routes to every new instance (and its counts reached Redis).
    await cluster.waitServedBy(ids, 10);
    const threeRng = await cluster.measureRate(WINDOW_MS);

    console.log(`hashes/s with 1 rng: ${oneRng.toFixed(1)}, with 3 rng: ${threeRng.toFixed(1)}`);
    expect(oneRng).toBeGreaterThan(5);
    expect(oneRng).toBeLessThan(25); // one instance really is the cap (20/s at 50 ms)
    expect(threeRng).toBeGreaterThanOrEqual(2 * oneRng);

    const after = await cluster.counters();
    expect(after.fallback).toBe(before.fallback); // every byte came from a real rng instance
    for (const id of ids) expect(after.byRng[id]).toBeGreaterThan(before.byRng[id] ?? 0);
  });
});
