/**
 * Behaviour that keeps a fleet honest under trouble, against the real Consul agent:
 * re-registration tells the truth about readiness, unrouted requests do not mint metric series,
 * an unreachable Consul gives a prompt 503 rather than a wait on every call, and the
 * healthy-instance gauge reports services that have no instance at all.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { NoHealthyInstance, ServiceClient, metricsRegistry } from '@switchyard/infra';
import { Watcher, createConsulClient } from '@switchyard/infra/discovery';
import { CONSUL, healthOf } from '../../test/support/consul.js';
import { stopAllProcesses } from '../../test/support/processes.js';
import { uniqueName, waitFor } from '../../test/support/wait.js';
import { closeInProcess, setKnob, startEcho, watch } from './support/echo.js';

afterEach(async () => {
  await closeInProcess();
  await stopAllProcesses();
});

describe('re-registration after the agent lost the instance', () => {
  it('comes back critical while the instance is not ready, and passing once it is', async () => {
    const name = uniqueName('rereg');
    const echo = await startEcho(name);
    await waitFor('registered passing', async () => (await healthOf(name)).length === 1);

    await setKnob(echo, 'ready', false);
    // What DeregisterCriticalServiceAfter does during a long dependency outage.
    await fetch(`${CONSUL}/v1/agent/service/deregister/${echo.serviceId}`, { method: 'PUT' });
    const entry = await waitFor('re-registered by the heartbeat', async () => (await healthOf(name, false))[0]);
    expect(entry.Service.ID).toBe(echo.serviceId);
    expect(entry.Checks.find((c) => c.ServiceID === echo.serviceId)?.Status).toBe('critical');
    expect(await healthOf(name)).toHaveLength(0);

    await setKnob(echo, 'ready', true);
    await waitFor('passing again through its own check', async () => (await healthOf(name)).length === 1);
  });
});

describe('metrics labels', () => {
  it('labels unrouted requests "unmatched", never with their raw path', async () => {
    const echo = await startEcho(uniqueName('labels'));
    const path = `/probe-${Date.now()}`;
    const bad = await fetch(`${echo.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{bad' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_json');
    await fetch(`${echo.url}${path}/other`);
    const metrics = await (await fetch(`${echo.url}/metrics`)).text();
    expect(metrics).not.toContain(path);
    expect(metrics).toMatch(/switchyard_http_server_requests_total\{method="POST",route="unmatched",status="400"\} 1/);
  });
});

describe('Consul unreachable from the start', () => {
  it('answers NoHealthyInstance after at most half the deadline, on the first call and on later ones', async () => {
    // Nothing listens on port 1: every discovery query fails at once.
    const consul = createConsulClient({ addr: 'http://127.0.0.1:1' });
    const watcher = new Watcher({ consul, service: uniqueName('nowhere'), backoff: { baseMs: 50, maxMs: 200 } }).start();
    // Discovery alone would wait a minute: only the half-deadline cap can make the calls prompt.
    const deadlineMs = 4_000;
    const client = new ServiceClient(watcher.service, watcher, { deadlineMs, discoveryTimeoutMs: 60_000 });
    try {
      // A call waits for discovery at most half its deadline (2 s), then answers 503; one that
      // waited out its deadline would take 4 s. The bound sits between, a second from each.
      for (const call of ['the first call', 'a later call']) {
        const started = performance.now();
        await expect(client.get('/whoami'), call).rejects.toBeInstanceOf(NoHealthyInstance);
        expect(performance.now() - started, call).toBeLessThan(deadlineMs * 0.75);
      }
    } finally {
      await client.close();
      await watcher.stop();
    }
  });
});

describe('healthy-instance gauge', () => {
  it('exports 0 for a watched service that has no instance', async () => {
    const watcher = watch(uniqueName('empty'));
    await watcher.ready();
    const gauge = await metricsRegistry.getSingleMetricAsString('switchyard_watcher_healthy_instances');
    expect(gauge).toContain(`switchyard_watcher_healthy_instances{service="${watcher.service}"} 0`);
  });
});
