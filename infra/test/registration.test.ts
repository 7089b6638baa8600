/**
 * Registration and graceful shutdown against the real Consul agent: an instance is registered
 * (passing, with its metadata) once it listens, and SIGTERM deregisters it before it drains, so
 * in-flight requests still complete. A shutdown racing the registration leaves no ghost entry.
 */
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createConsulClient, Registrar } from '@switchyard/infra/discovery';
import { afterEach, describe, expect, it } from 'vitest';
import { CONSUL, agentServiceIds, healthOf } from '../../test/support/consul.js';
import { stopAllProcesses } from '../../test/support/processes.js';
import { uniqueName, waitFor } from '../../test/support/wait.js';
import { expectedServiceId, startEcho } from './support/echo.js';

afterEach(stopAllProcesses);

/**
 * A GET whose `sent` resolves once the request is fully written, `response` once it is read. It
 * goes over a keep-alive connection, as every ServiceClient call does.
 */
function slowGet(url: string, agent: Agent) {
  let markSent!: () => void;
  const sent = new Promise<void>((resolve) => (markSent = resolve));
  const response = new Promise<{ status: number; headers: Record<string, unknown>; body: string; at: number }>((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, at: Date.now() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.on('finish', markSent);
    req.end();
  });
  return { sent, response };
}

/** A pass-through proxy to the real agent that records each request's method and path. */
async function recordingProxy(target: string): Promise<{ url: string; seen: string[]; server: Server }> {
  const seen: string[] = [];
  const server = createServer(async (req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const upstream = await fetch(`${target}${req.url}`, {
      method: req.method,
      body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
    });
    const headers: Record<string, string> = {};
    upstream.headers.forEach((value, name) => {
      if (name.startsWith('x-consul') || name === 'content-type') headers[name] = value;
    });
    res.writeHead(upstream.status, headers).end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

describe('registration (real Consul)', () => {
  it('registers a listening instance as passing, with its id and metadata', async () => {
    const name = uniqueName('reg');
    const before = Date.now();
    const echo = await startEcho(name, { SERVICE_VERSION: '7.7.7-test' });
    expect(echo.serviceId).toBe(expectedServiceId(name, echo.port));

    const [entry] = await waitFor('the instance to pass in consul', async () => {
      const entries = await healthOf(name);
      return entries.length === 1 ? entries : undefined;
    });
    expect(entry!.Service.ID).toBe(echo.serviceId);
    expect(entry!.Service.Service).toBe(name);
    expect(entry!.Service.Port).toBe(echo.port);
    expect(entry!.Service.Address).toBe('127.0.0.1');
    expect(entry!.Checks.every((check) => check.Status === 'passing')).toBe(true);

    const meta = entry!.Service.Meta;
    expect(meta.version).toBe('7.7.7-test');
    expect(meta.pid).toBe(String(echo.process.child.pid));
    const startedAt = Date.parse(meta.started_at!);
    expect(startedAt).toBeGreaterThanOrEqual(before - 1_000);
    expect(startedAt).toBeLessThanOrEqual(Date.now());

    // The instance says who it is on every answer.
    const live = await fetch(`${echo.url}/health/live`);
    expect(live.headers.get('x-served-by')).toBe(echo.serviceId);
  });

  it('on SIGTERM deregisters at once, finishes the in-flight request, then exits 0', async () => {
    const name = uniqueName('drain');
    const echo = await startEcho(name);
    await waitFor('the instance to pass in consul', async () => (await healthOf(name)).length === 1);

    const agent = new Agent({ keepAlive: true });
    const slow = slowGet(`${echo.url}/slow?ms=1500`, agent);
    await slow.sent;
    const signalledAt = Date.now();
    echo.process.child.kill('SIGTERM');

    const goneAt = await waitFor(
      'the instance to leave consul',
      async () => ((await healthOf(name, false)).length === 0 && !(await agentServiceIds()).includes(echo.serviceId) ? Date.now() : undefined),
      { timeoutMs: 5_000, intervalMs: 10 },
    );
    // Deregistration comes first, long before the 1.5 s request could complete.
    expect(goneAt - signalledAt).toBeLessThan(1_000);

    const answer = await slow.response;
    expect(answer.at).toBeGreaterThan(goneAt);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ id: echo.serviceId, sleptMs: 1500 });

    // The keep-alive connection is closed with that last answer, so the drain does not wait
    // for the caller's idle timeout: the process exits right after.
    expect(answer.headers.connection).toBe('close');
    const exit = await echo.process.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - answer.at).toBeLessThan(2_000);
    agent.destroy();
    expect(echo.process.output()).toContain('deregistered from consul');
  });

  it('on SIGTERM finishes every in-flight request, closing in any order, and each answer closes its connection', async () => {
    const name = uniqueName('drain-many');
    const echo = await startEcho(name);
    await waitFor('the instance to pass in consul', async () => (await healthOf(name)).length === 1);

    // One keep-alive connection each; they finish out of the order they came in, so the server's
    // in-flight list loses entries from its middle, its end and its start.
    const sleeps = [900, 300, 1500, 600, 1200];
    const agents = sleeps.map(() => new Agent({ keepAlive: true }));
    const calls = sleeps.map((ms, i) => slowGet(`${echo.url}/slow?ms=${ms}`, agents[i]!));
    await Promise.all(calls.map((call) => call.sent));
    echo.process.child.kill('SIGTERM');

    const answers = await Promise.all(calls.map((call) => call.response));
    answers.forEach((answer, i) => {
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toEqual({ id: echo.serviceId, sleptMs: sleeps[i] });
      expect(answer.headers.connection).toBe('close');
    });
    expect(await echo.process.exited).toEqual({ code: 0, signal: null });
    for (const agent of agents) agent.destroy();
  });

  it('checks its registration by asking for its own entry, and registers again once the agent forgot it', async () => {
    const name = uniqueName('heartbeat');
    const id = `${name}-1`;
    const proxy = await recordingProxy(CONSUL);
    const registrar = new Registrar({ id, name, address: '127.0.0.1', port: 1 }, { consul: createConsulClient({ addr: proxy.url }), heartbeatMs: 100 });
    try {
      await registrar.start();
      const own = `GET /v1/agent/service/${id}`;
      await waitFor('three heartbeats', () => proxy.seen.filter((line) => line.startsWith(own)).length >= 3, { timeoutMs: 10_000 });
      // Not the list of every service on the agent, once a second per instance.
      expect(proxy.seen.filter((line) => line.startsWith('GET /v1/agent/services'))).toEqual([]);

      await fetch(`${CONSUL}/v1/agent/service/deregister/${encodeURIComponent(id)}`, { method: 'PUT' });
      await waitFor('the registrar to register again', async () => (await agentServiceIds()).includes(id), { timeoutMs: 10_000 });
    } finally {
      await registrar.deregister();
      proxy.server.close();
    }
    expect(await agentServiceIds()).not.toContain(id);
  });

  it('leaves no ghost entry when shutdown races a registration already on the wire', async () => {
    const name = uniqueName('race');
    const id = `${name}-1`;
    const registrar = new Registrar({ id, name, address: '127.0.0.1', port: 1 }, { consul: createConsulClient({ addr: CONSUL }) });
    try {
      const starting = registrar.start(); // the PUT is in flight now
      await registrar.deregister();
      await starting;
      expect(await agentServiceIds()).not.toContain(id);
      expect(await healthOf(name, false)).toEqual([]);
    } finally {
      await fetch(`${CONSUL}/v1/agent/service/deregister/${encodeURIComponent(id)}`, { method: 'PUT' });
    }
  });
});
