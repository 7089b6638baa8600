/**
 * What callers see when things are wrong: no healthy upstream → 503 no_healthy_instance JSON
 * naming the service; a bad configuration → exit 1 with one stderr line naming the variable.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startProcess, stopAllProcesses } from '../../test/support/processes.js';
import { uniqueName } from '../../test/support/wait.js';
import { ECHO_ENTRY, startEcho } from './support/echo.js';

afterEach(stopAllProcesses);

describe('failure modes (real processes, real Consul)', () => {
  it('answers 503 no_healthy_instance naming the upstream when it has no instance', async () => {
    const missing = uniqueName('missing');
    const relay = await startEcho(uniqueName('relay'), { UPSTREAM: missing });
    const started = Date.now();
    const response = await fetch(`${relay.url}/relay`);
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('x-served-by')).toBe(relay.serviceId);
    const body = (await response.json()) as { error: { code: string; message: string; service: string } };
    expect(body.error.code).toBe('no_healthy_instance');
    expect(body.error.service).toBe(missing);
    expect(body.error.message).toContain(missing);
    // Consul answered "nobody" at once: no waiting for a discovery timeout.
    expect(Date.now() - started).toBeLessThan(2_000);
    // And the process is still healthy.
    expect((await fetch(`${relay.url}/health/live`)).status).toBe(200);
  });

  it('answers JSON 4xx, not 5xx, to a malformed JSON body', async () => {
    const echo = await startEcho(uniqueName('badjson'));
    const response = await fetch(`${echo.url}/admin/ready`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"ready": tru',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: { code: 'invalid_json', message: 'request body is not valid JSON' } });
    const missing = await fetch(`${echo.url}/no/such/route`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('exits 1 with one clear stderr line naming PORT when PORT=abc', async () => {
    const child = startProcess(ECHO_ENTRY, { SERVICE_NAME: uniqueName('badcfg'), PORT: 'abc' });
    const exit = await child.exited;
    expect(exit).toEqual({ code: 1, signal: null });
    const lines = child.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/PORT/);
    expect(lines[0]).toContain('"abc"');
    expect(lines[0]).not.toMatch(/\bat \S+:\d+/); // no stack trace
  });
});
