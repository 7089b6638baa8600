/**
 * `make dev` end to end: scripts/dev.sh really runs (real Consul, Redis, every service as a local
 * process), the gateway answers on its fixed port 8080, Consul lists every service as passing,
 * and a Ctrl-C (SIGINT to the script's process group) stops everything with each instance
 * deregistered. Ports 8080 and 8000 are fixed here, so the test skips when they are taken.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { afterAll, describe, expect, test } from 'vitest';
import { agentServiceIds, healthOf } from './support/consul.js';
import { REPO_ROOT } from './support/processes.js';
import { waitFor } from './support/wait.js';

const GATEWAY_PORT = 8080;
const GATEWAY_ADMIN_PORT = 8081;
const WEBUI_PORT = 8000;
const PROCESS_NAMES = ['gateway', 'webui', 'worker', 'hasher', 'rng-1', 'rng-2', 'auth', 'social', 'messenger-1', 'messenger-2'] as const;

function listens(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const busyPorts = (await Promise.all([GATEWAY_PORT, GATEWAY_ADMIN_PORT, WEBUI_PORT].map(async (p) => ((await listens(p)) ? p : undefined)))).filter(
  (p) => p !== undefined,
);
if (busyPorts.length > 0) {
  console.warn(`test/dev.test.ts skipped: port ${busyPorts.join(' and ')} already in use (is a 'make dev' running?)`);
}

describe('make dev (scripts/dev.sh)', () => {
  let dev: ChildProcess | undefined;
  let output = '';
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  const tail = () => output.split('\n').filter((l) => !l.includes('"msg":"request"')).slice(-40).join('\n');

  afterAll(async () => {
    // Only when the test failed half-way: SIGTERM lets the script stop its services gracefully.
    if (!dev || dev.exitCode !== null || dev.signalCode !== null) return;
    process.kill(-dev.pid!, 'SIGTERM');
    const gone = await Promise.race([exited, new Promise((r) => setTimeout(() => r(undefined), 40_000))]);
    if (!gone) process.kill(-dev.pid!, 'SIGKILL');
  }, 60_000);

  test.skipIf(busyPorts.length > 0)(
    'comes up on 8080 with every service passing in Consul, and Ctrl-C deregisters them all',
    async () => {
      dev = spawn('bash', ['scripts/dev.sh'], {
        cwd: REPO_ROOT,
        // Its own process group, as a terminal gives a foreground job: Ctrl-C signals the group.
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          NO_COLOR: '1',
          FORCE_COLOR: '0',
          // Consul, Redis and Jaeger are shared with other test runs: never stop them here.
          SWITCHYARD_DEV_KEEP_INFRA: '1',
        },
      });
      dev.stdout!.on('data', (chunk) => (output += chunk));
      dev.stderr!.on('data', (chunk) => (output += chunk));
      const child = dev;
      exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
      const alive = () => {
        if (child.exitCode !== null) throw new Error(`dev.sh exited early with ${child.exitCode}:\n${tail()}`);
      };

      // Each process logs its Consul id when it listens: "[rng-1] {...\"serviceId\":\"rng-vm-41234\"...}".
      const ids = await waitFor(
        'every process of make dev to listen',
        () => {
          alive();
          const found: Record<string, string> = {};
          for (const line of output.split('\n')) {
            const match = /^\[([\w-]+)\]\s+(\{.*\})\s*$/.exec(line);
            if (!match || !line.includes('listening on')) continue;
            found[match[1]!] = (JSON.parse(match[2]!) as { serviceId: string }).serviceId;
          }
          return PROCESS_NAMES.every((name) => found[name]) && found;
        },
        { timeoutMs: 90_000, intervalMs: 200 },
      );
      const ourIds = PROCESS_NAMES.map((name) => ids[name]!);
      // make migrate's step ran to completion before any service started.
      const migrated = output.search(/\[migrate\] done in \d+ ms: \d+ applied/);
      expect(migrated, tail()).toBeGreaterThan(-1);
      expect(migrated).toBeLessThan(output.search(/listening on/));
      expect(output).toContain('[dev] API docs     http://127.0.0.1:8080/api/docs');
      expect(ids.gateway).toMatch(/-8080$/);
      expect(ids.webui).toMatch(/-8000$/);

      const bytes = await waitFor(
        'the gateway on 8080 to serve /api/v1/rng/8',
        async () => {
          alive();
          const response = await fetch(`http://127.0.0.1:${GATEWAY_PORT}/api/v1/rng/8`);
          if (response.status !== 200) return undefined;
          expect(response.headers.get('x-gateway')).toBe(ids.gateway);
          return Buffer.from(await response.arrayBuffer());
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      expect(bytes.length).toBe(8);
      // The gateway's health and metrics live on its loopback admin port, not the public one.
      expect((await fetch(`http://127.0.0.1:${GATEWAY_PORT}/metrics`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${GATEWAY_ADMIN_PORT}/health/ready`)).status).toBe(200);

      for (const [service, names] of [
        ['gateway', ['gateway']],
        ['webui', ['webui']],
        ['worker', ['worker']],
        ['hasher', ['hasher']],
        ['rng', ['rng-1', 'rng-2']],
        ['auth', ['auth']],
        ['social', ['social']],
        ['messenger', ['messenger-1', 'messenger-2']],
      ] as const) {
        const wanted = names.map((name) => ids[name]!);
        await waitFor(
          `${wanted.join(', ')} passing in Consul`,
          async () => {
            const passing = (await healthOf(service)).map((entry) => entry.Service.ID);
            return wanted.every((id) => passing.includes(id));
          },
          { timeoutMs: 30_000 },
        );
      }

      // Ctrl-C: the terminal sends SIGINT to the whole foreground process group.
      const stopStartsAt = output.length;
      process.kill(-child.pid!, 'SIGINT');
      const result = await Promise.race([
        exited,
        new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 45_000)),
      ]);
      expect(result, `dev.sh did not stop within 45 s:\n${tail()}`).toEqual({ code: 0, signal: null });
      // One signal per service (a second one means "exit now, skip the graceful stop").
      expect(output).not.toMatch(/second SIG\w+, exiting without waiting/);
      for (const name of PROCESS_NAMES) {
        expect(output, `${name} did not exit cleanly:\n${tail()}`).toMatch(new RegExp(`\\[${name}\\]\\s+.* exited with code 0`));
      }

      // Everything stops at once: the worker stops mining before it deregisters and does not
      // report its upstreams' orderly departure as failures.
      const workerWarnings = output
        .slice(stopStartsAt)
        .split('\n')
        .filter((line) => /^\[worker\]/.test(line) && /"level":(40|50)/.test(line));
      expect(workerWarnings, tail()).toEqual([]);

      const registered = await agentServiceIds();
      expect(ourIds.filter((id) => registered.includes(id))).toEqual([]);
      expect(await listens(GATEWAY_PORT)).toBe(false);
      expect(await listens(GATEWAY_ADMIN_PORT)).toBe(false);
      expect(await listens(WEBUI_PORT)).toBe(false);
    },
    180_000,
  );
});
