/**
 * Consul with ACLs (default deny) and TLS: a second, real Consul agent started by this file on
 * free ports (the shared one on :8500 stays untouched). The token from CONSUL_HTTP_TOKEN goes with
 * every call (registration, heartbeat, health queries, deregistration); a refusal is one clear
 * line, then a slow retry; CONSUL_CACERT / CONSUL_HTTP_SSL reach the agent's HTTPS port.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '@switchyard/infra';
import { consulConnection, createConsulClient, Registrar, Watcher, type ConsulConnection } from '@switchyard/infra/discovery';
import { pino, type Logger } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stopAllProcesses } from '../../test/support/processes.js';
import { uniqueName, waitFor } from '../../test/support/wait.js';
import { startEcho } from './support/echo.js';

const CONSUL_BIN = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'switchyard', 'bin', 'consul');
const MANAGEMENT_TOKEN = randomUUID();
const run = promisify(execFile);

interface Agent {
  child: ChildProcess;
  output: () => string;
  dir: string;
  http: string;
  https: string;
  caFile: string;
}
let agent: Agent;

async function freePort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A dev agent with ACLs on (deny by default) and an HTTPS port with a certificate from its own CA. */
async function startAclAgent(): Promise<Agent> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-consul-acl-'));
  await run(CONSUL_BIN, ['tls', 'ca', 'create'], { cwd: dir });
  await run(CONSUL_BIN, ['tls', 'cert', 'create', '-server', '-dc', 'dc1', '-additional-ipaddress', '127.0.0.1'], { cwd: dir });
  const [http, https, server, serfLan, serfWan] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const file = (name: string) => JSON.stringify(join(dir, name));
  const child = spawn(
    CONSUL_BIN,
    [
      'agent', '-dev', '-node', `acl-test-${process.pid}`, '-bind', '127.0.0.1', '-client', '127.0.0.1', '-log-level', 'warn',
      '-http-port', String(http), '-https-port', String(https), '-server-port', String(server),
      '-serf-lan-port', String(serfLan), '-serf-wan-port', String(serfWan),
      '-dns-port', '-1', '-grpc-port', '-1', '-grpc-tls-port', '-1',
      '-hcl', `acl { enabled = true default_policy = "deny" tokens { initial_management = "${MANAGEMENT_TOKEN}" } }`,
      '-hcl', `tls { defaults { ca_file = ${file('consul-agent-ca.pem')} cert_file = ${file('dc1-server-consul-0.pem')} key_file = ${file('dc1-server-consul-0-key.pem')} verify_incoming = false } }`,
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let text = '';
  child.stdout!.on('data', (chunk) => (text += chunk));
  child.stderr!.on('data', (chunk) => (text += chunk));
  const started: Agent = { child, output: () => text, dir, http: `http://127.0.0.1:${http}`, https: `https://127.0.0.1:${https}`, caFile: join(dir, 'consul-agent-ca.pem') };
  // Up once the management token works: the ACL system is bootstrapped when a leader is elected.
  await waitFor('the ACL agent to elect itself and accept its management token', async () => {
    if (child.exitCode !== null) throw new Error(`consul exited with ${child.exitCode}: ${text.slice(-2000)}`);
    const response = await fetch(`${started.http}/v1/acl/token/self`, { headers: { 'x-consul-token': MANAGEMENT_TOKEN } });
    return response.ok;
  }, { timeoutMs: 30_000, intervalMs: 100 });
  return started;
}

/** A call to the ACL agent's plain HTTP port as its operator (management token). */
async function operator<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${agent.http}${path}`, {
    method,
    headers: { 'x-consul-token': MANAGEMENT_TOKEN },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A token allowed to register (and so read) `service`, and to read nodes (health queries need it). */
async function tokenFor(service: string): Promise<string> {
  const policy = `svc-${randomUUID()}`;
  await operator('PUT', '/v1/acl/policy', { Name: policy, Rules: `service "${service}" { policy = "write" }\nnode_prefix "" { policy = "read" }` });
  return (await operator<{ SecretID: string }>('PUT', '/v1/acl/token', { Policies: [{ Name: policy }] })).SecretID;
}

const agentServices = () => operator<Record<string, unknown>>('GET', '/v1/agent/services');

function capturedLogger() {
  const lines: Array<{ level: number; msg: string; retryInMs?: number }> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

/** A node:http server whose /health/ready passes, for the agent's HTTP check. */
let readyServer: Server;
let readyPort: number;

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.allSettled(cleanups.splice(0).reverse().map((cleanup) => cleanup()));
  await stopAllProcesses();
});

beforeAll(async () => {
  agent = await startAclAgent();
  readyServer = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => readyServer.listen(0, '127.0.0.1', resolve));
  readyPort = (readyServer.address() as AddressInfo).port;
}, 60_000);

afterAll(async () => {
  readyServer?.close();
  if (agent) {
    const exited = new Promise((resolve) => agent.child.once('exit', resolve));
    if (agent.child.exitCode === null) agent.child.kill('SIGTERM');
    await exited;
    await rm(agent.dir, { recursive: true, force: true });
  }
}, 60_000);

function registrar(connection: ConsulConnection, name: string, options: { logger?: Logger; heartbeatMs?: number } = {}) {
  const consul = createConsulClient(connection);
  const r = new Registrar({ id: `${name}-1`, name, address: '127.0.0.1', port: readyPort }, { consul, ...options });
  cleanups.push(() => r.deregister());
  return r;
}

function watcher(connection: ConsulConnection, service: string, logger?: Logger): Watcher {
  const w = new Watcher({ consul: createConsulClient(connection), service, logger }).start();
  cleanups.push(() => w.stop());
  return w;
}

describe('consul with ACLs (a second, real agent)', () => {
  it('registers, keeps and deregisters with CONSUL_HTTP_TOKEN, and watches with it', async () => {
    const name = uniqueName('acl');
    const token = await tokenFor(name);
    const r = registrar({ addr: agent.http, token }, name, { heartbeatMs: 200 });
    await r.start();
    expect(Object.keys(await agentServices())).toContain(r.serviceId);

    const w = watcher({ addr: agent.http, token }, name);
    await waitFor('the watcher to see the instance', () => w.instances().length === 1, { timeoutMs: 10_000 });
    expect(w.consecutiveFailures).toBe(0);

    // The heartbeat reads our own entry with the token: it notices the loss and registers again.
    await operator('PUT', `/v1/agent/service/deregister/${encodeURIComponent(r.serviceId)}`);
    await waitFor('the registrar to register again', async () => r.serviceId in (await agentServices()), { timeoutMs: 10_000 });

    await r.deregister();
    expect(Object.keys(await agentServices())).not.toContain(r.serviceId);
  });

  it('without a token, a registration is refused with one clear line and retried slowly', async () => {
    const name = uniqueName('acl-none');
    const { logger, lines } = capturedLogger();
    const r = registrar({ addr: agent.http }, name, { logger });
    const starting = r.start();
    const refused = await waitFor('the refusal line', () => lines.find((l) => l.msg.startsWith('consul refused')));
    expect(refused.msg).toBe(`consul refused to register ${name}-1: the anonymous ACL token (CONSUL_HTTP_TOKEN is unset) lacks service:write on ${name}`);
    expect(refused.level).toBe(50);
    expect(refused.retryInMs).toBeGreaterThanOrEqual(2_500);
    await r.deregister();
    await starting;
    expect(lines.filter((l) => l.level >= 40)).toHaveLength(1);
    expect(Object.keys(await agentServices())).not.toContain(`${name}-1`);
  });

  it('with a token for another service, says which permission is missing', async () => {
    const name = uniqueName('acl-other');
    const { logger, lines } = capturedLogger();
    const r = registrar({ addr: agent.http, token: await tokenFor(`${name}-not-this-one`) }, name, { logger });
    const starting = r.start();
    const refused = await waitFor('the refusal line', () => lines.find((l) => l.msg.startsWith('consul refused')));
    expect(refused.msg).toBe(`consul refused to register ${name}-1: the ACL token in CONSUL_HTTP_TOKEN lacks service:write on ${name}`);
    await r.deregister();
    await starting;
  });

  it('a watcher whose token Consul does not know logs one clear line and backs off slowly', async () => {
    const { logger, lines } = capturedLogger();
    const w = watcher({ addr: agent.http, token: randomUUID() }, uniqueName('acl-watch'), logger);
    const refused = await waitFor('the refusal line', () => lines.find((l) => l.msg.startsWith('consul refused')));
    expect(refused.msg).toMatch(/^consul refused to list instances of acl-watch-.*: CONSUL_HTTP_TOKEN is not a token this Consul knows \(ACL not found\)/);
    expect(refused.level).toBe(50);
    expect(refused.retryInMs).toBeGreaterThanOrEqual(2_500);
    expect(w.consecutiveFailures).toBe(1);
    expect(w.lastSyncAt).toBe(0);
  });

  it('a watcher without a token says why its list may be empty', async () => {
    const name = uniqueName('acl-hidden');
    const token = await tokenFor(name);
    await registrar({ addr: agent.http, token }, name).start();
    const { logger, lines } = capturedLogger();
    const w = watcher({ addr: agent.http }, name, logger);
    expect(await w.ready(5_000)).toEqual([]);
    expect(lines.map((l) => l.msg)).toContain(
      `watching ${name}: consul enforces ACLs (default deny) and CONSUL_HTTP_TOKEN is unset: the anonymous token may not see any instance`,
    );
  });
});

describe('consul over TLS (CONSUL_CACERT, CONSUL_HTTP_SSL)', () => {
  it('registers and watches over HTTPS with the CA from CONSUL_CACERT', async () => {
    const name = uniqueName('tls');
    const token = await tokenFor(name);
    // As a service reads it: a bare host:port made https by CONSUL_HTTP_SSL.
    const connection = consulConnection(
      loadConfig({}, { CONSUL_HTTP_ADDR: agent.https.replace('https://', ''), CONSUL_HTTP_SSL: 'true', CONSUL_CACERT: agent.caFile, CONSUL_HTTP_TOKEN: token }),
    );
    expect(connection.addr).toMatch(/^http:\/\//);
    const r = registrar(connection, name);
    await r.start();
    const w = watcher(connection, name);
    await waitFor('the watcher to see the instance over https', () => w.instances().length === 1, { timeoutMs: 10_000 });
    await r.deregister();
    expect(Object.keys(await agentServices())).not.toContain(r.serviceId);
  });

  it('refuses an agent certificate it cannot verify, unless CONSUL_HTTP_SSL_VERIFY=false', async () => {
    const untrusted = createConsulClient({ addr: agent.https });
    await expect(untrusted.status.leader()).rejects.toThrow(/certificate/i);
    const unverified = createConsulClient({ addr: agent.https, verifyTls: false });
    expect(await unverified.status.leader()).toMatch(/^127\.0\.0\.1:/);
  });

  it('a service configured through the environment registers over HTTPS with its token and leaves on SIGTERM', async () => {
    const name = uniqueName('tls-echo');
    const echo = await startEcho(name, {
      CONSUL_HTTP_ADDR: agent.https,
      CONSUL_CACERT: agent.caFile,
      CONSUL_HTTP_TOKEN: await tokenFor(name),
    });
    await waitFor('the echo instance to pass in the ACL agent', async () => {
      const entries = await operator<unknown[]>('GET', `/v1/health/service/${name}?passing`);
      return entries.length === 1;
    }, { timeoutMs: 15_000 });
    expect(echo.process.output()).not.toContain('consul refused');
    expect(await echo.process.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(Object.keys(await agentServices())).not.toContain(echo.serviceId);
  });
});
