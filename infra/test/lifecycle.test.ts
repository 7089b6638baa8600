/**
 * The process lifecycle of runService against the real Consul agent: signal handlers come before
 * anything starts, every shutdown step shares one deadline, outgoing work stops before the
 * deregistration, and the admin listener serves health off the public port.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentServiceIds, healthOf } from '../../test/support/consul.js';
import { startProcess, stopAllProcesses } from '../../test/support/processes.js';
import { uniqueName, waitFor } from '../../test/support/wait.js';

const ENTRY = 'infra/test/fixtures/lifecycle-service.ts';

afterEach(async () => {
  await stopAllProcesses();
});

function logMessages(output: string): string[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => (JSON.parse(line) as { msg: string }).msg);
}

describe('service lifecycle (real processes, real Consul)', () => {
  it('a SIGTERM during setup stops the start: exit 0, never listening, never registered', async () => {
    const name = uniqueName('life-setup');
    const gate = join(mkdtempSync(join(tmpdir(), 'gate-')), 'open');
    const child = startProcess(ENTRY, { SERVICE_NAME: name, SETUP_GATE: gate });
    await waitFor('setup to start waiting', () => child.output().includes('setup waiting for its gate'));
    child.child.kill('SIGTERM');
    await waitFor('the service to take the SIGTERM', () => child.output().includes('setup heard SIGTERM'));
    writeFileSync(gate, ''); // setup may finish now; the start must not go on
    const { code } = await child.exited;
    expect(code, child.output()).toBe(0);
    expect(child.output()).toContain('stop requested during setup');
    expect(logMessages(child.output()).some((m) => m.includes('listening on'))).toBe(false);
    expect((await agentServiceIds()).some((id) => id.startsWith(name))).toBe(false);
  });

  it('exits 1 once SHUTDOWN_TIMEOUT_MS has passed when a start never finishes', async () => {
    const gate = join(mkdtempSync(join(tmpdir(), 'gate-')), 'never');
    const child = startProcess(ENTRY, { SERVICE_NAME: uniqueName('life-hang'), SETUP_GATE: gate, SHUTDOWN_TIMEOUT_MS: '1500' });
    await waitFor('setup to start waiting', () => child.output().includes('setup waiting for its gate'));
    const sentAt = Date.now();
    child.child.kill('SIGTERM');
    const { code } = await child.exited;
    expect(code).toBe(1);
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(1_400);
    expect(child.output()).toContain('shutdown took longer than 1500 ms, exiting');
  });

  it('stops outgoing work before deregistering, and a stop hook that hangs neither skips the drain nor the exit', async () => {
    const name = uniqueName('life-hook');
    const child = startProcess(ENTRY, { SERVICE_NAME: name, HOOK_HANGS: '1', SHUTDOWN_TIMEOUT_MS: '6000', SHUTDOWN_DRAIN_MS: '4000' });
    const { serviceId, port } = await child.listening();
    await waitFor('registration', async () => (await healthOf(name)).some((e) => e.Service.ID === serviceId));
    // An in-flight request when SIGTERM lands: the drain must let it finish.
    const inFlight = fetch(`http://127.0.0.1:${port}/slow?ms=1500`);
    await waitFor('the request to be in flight', () => child.output().includes('slow request started'));
    child.child.kill('SIGTERM');
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    const { code } = await child.exited;
    expect(code, child.output()).toBe(0);
    const messages = logMessages(child.output());
    const at = (text: string) => messages.findIndex((m) => m === text || m.startsWith(`${text}`));
    expect(at('outgoing work stopped')).toBeGreaterThan(-1);
    expect(at('outgoing work stopped')).toBeLessThan(at('deregistered from consul'));
    expect(at('stop hook running')).toBeGreaterThan(at('deregistered from consul'));
    const overran = at('shutdown: onShutdown did not finish within its budget');
    expect(overran).toBeGreaterThan(-1);
    // The shutdown went on to its end after the cut hook (the drain above answered the request).
    expect(at('stopped')).toBeGreaterThan(-1);
  });

  it('serves health and metrics on the admin listener only, and Consul checks it there', async () => {
    const name = uniqueName('life-admin');
    const child = startProcess(ENTRY, { SERVICE_NAME: name, ADMIN: '1', ACCESS_LOG: 'false' });
    const { serviceId, port } = await child.listening();
    const line = child.output().split('\n').find((l) => l.includes('listening on'))!;
    const adminPort = (JSON.parse(line) as { adminPort: number }).adminPort;
    expect(adminPort).toBeGreaterThan(0);
    expect(adminPort).not.toBe(port);
    for (const path of ['/health/ready', '/health/live', '/metrics']) {
      expect((await fetch(`http://127.0.0.1:${port}${path}`)).status, `public ${path}`).toBe(404);
      expect((await fetch(`http://127.0.0.1:${adminPort}${path}`)).status, `admin ${path}`).toBe(200);
    }
    const entry = await waitFor('a passing check on the admin port', async () => {
      const found = (await healthOf(name)).find((e) => e.Service.ID === serviceId);
      return found && found.Checks.every((c) => c.Status === 'passing') ? found : undefined;
    });
    expect(entry.Service.Port).toBe(port);
    expect(entry.Service.Meta.admin_port).toBe(String(adminPort));
  });
});
