/**
 * The load tool users run (`npm run load`), end to end: 2 s of open-loop load through a real
 * gateway to two real rng instances; its JSON summary shows every answer and both instances'
 * shares (the balancing, made visible).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateStack, get, type Running } from '../gateway/test/upstreams.js';
import type { Summary } from '../scripts/load/summary.js';

const run = promisify(execFile);
const REPO_ROOT = new URL('..', import.meta.url).pathname;

describe('npm run load (gateway + 2 rng, real Consul)', () => {
  const stack = new PrivateStack();
  let gateway: Running;
  let rngs: Running[];

  beforeAll(async () => {
    [gateway, rngs] = await Promise.all([stack.start('gateway'), stack.startRngs(2)]);
    await stack.waitFor('the gateway to route to both rng instances', async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 4; i++) seen.add((await get(gateway.port, '/api/v1/rng/8')).headers.get('x-served-by') ?? '');
      return seen.size === 2;
    });
  });
  afterAll(() => stack.stopAll());

  it('loads a route for 2 s at a fixed rate and reports the share per x-served-by instance', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'scripts/load/main.ts', '--gateway', gateway.url, '--route', '/api/v1/rng/8', '--rps', '50', '--connections', '4', '--duration', '2s', '--json'],
      { cwd: REPO_ROOT, timeout: 30_000 },
    );
    const summary = JSON.parse(stdout) as Summary;
    expect(summary).toMatchObject({ mode: 'open', rps: 50, requests: 100, errors: 0, statuses: { 200: 100 }, errorReasons: {} });
    expect(summary.reqPerS).toBeGreaterThan(30);
    // Round robin over two instances: each serves half, give or take the calls in flight at a change.
    expect(Object.keys(summary.servedBy).sort()).toEqual(rngs.map((r) => r.serviceId).sort());
    for (const { share } of Object.values(summary.servedBy)) expect(share).toBeGreaterThan(0.4);
    expect(summary.latencyMs.p50).toBeGreaterThan(0);
    expect(summary.latencyMs.max).toBeGreaterThanOrEqual(summary.latencyMs.p99);
  });

  it('counts refused connections as errors by reason instead of failing', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'scripts/load/main.ts', '--url', 'http://127.0.0.1:1/', '--rps', '20', '--duration', '500ms', '--json'],
      { cwd: REPO_ROOT, timeout: 30_000 },
    );
    const summary = JSON.parse(stdout) as Summary;
    expect(summary.requests).toBe(10);
    expect(summary.errors).toBe(10);
    expect(summary.errorReasons).toEqual({ refused: 10 });
  });
});
