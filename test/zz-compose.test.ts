/**
 * The users' Docker path (issue 13), run for real against a Docker engine: from a clean state,
 * exactly `LOCAL_IMAGES=1 make init && LOCAL_IMAGES=1 make migrate && LOCAL_IMAGES=1 make app`,
 * then as a user: every service passing in the stack's own Consul, the gateway through its
 * published port, the API journey, `make scale`, a `docker stop` and a `docker kill` under load,
 * `make down`, `make clean`.
 *
 * LOCAL_IMAGES=1: a private engine when none answers (Debian's docker.io), local stand-in images
 * (no registry needed) and the Compose CLI built from source; the first run builds them (several
 * minutes), later runs reuse them. Where no engine can be had, this file is skipped with one line.
 * SWITCHYARD_SKIP_COMPOSE=1 skips it on purpose.
 *
 * Host ports: the suite's own Consul, Jaeger (and a `make dev`) hold 8500, 16686, 8080, 8000 on
 * this host, so the stack publishes on free ports given through CONSUL_UI_PORT, JAEGER_UI_PORT,
 * GATEWAY_PORT and WEBUI_PORT, under its own project name (COMPOSE_PROJECT_NAME): a user's
 * `switchyard` stack on the same engine is left alone. Runs last (zz-): it loads both cores.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/processes.js';
import { waitFor } from './support/wait.js';

const PROJECT = 'switchyard-compose-test';
const CACHE = path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'switchyard');
const LOG_FILE = path.join(CACHE, 'logs', 'compose-test.log');
const MINUTE = 60_000;
const started = Date.now();
const progress = (line: string) => console.log(`[compose-test +${((Date.now() - started) / 1000).toFixed(1)}s] ${line}`);

// ------------------------------------------------------------------ can an engine be had?
function engine(): { host?: string; startedByUs: boolean; reason?: string } {
  if (process.env.SWITCHYARD_SKIP_COMPOSE === '1') return { startedByUs: false, reason: 'SWITCHYARD_SKIP_COMPOSE=1' };
  const daemon = path.join(REPO_ROOT, 'scripts/docker/daemon.sh');
  const before = spawnSync('bash', [daemon, 'status'], { encoding: 'utf8' });
  // `host` with LOCAL_IMAGES=1 starts the private engine (installing docker.io) when none answers.
  const host = spawnSync('bash', [daemon, 'host'], { encoding: 'utf8', env: { ...process.env, LOCAL_IMAGES: '1' }, timeout: 10 * MINUTE });
  if (host.status !== 0) {
    const why = (host.stderr || host.error?.message || '').trim().split('\n').at(-1);
    return { startedByUs: false, reason: `no Docker engine could be had (${why})` };
  }
  return { host: host.stdout.trim(), startedByUs: before.status !== 0 };
}
const docker = engine();
if (!docker.host) console.warn(`test/zz-compose.test.ts skipped: ${docker.reason}`);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe.skipIf(!docker.host)('make init && make migrate && make app on Docker Compose (LOCAL_IMAGES=1)', () => {
  const ports = { consul: 0, gateway: 0, webui: 0, jaeger: 0 };
  let env: NodeJS.ProcessEnv;
  const log = (() => {
    mkdirSync(path.dirname(LOG_FILE), { recursive: true });
    return createWriteStream(LOG_FILE, { flags: 'w' });
  })();

  /** Runs a command with the stack's environment; its output goes to the log, its tail into a failure. */
  function run(command: string, args: string[], { timeoutMs = 10 * MINUTE, quiet = false } = {}): Promise<string> {
    const t0 = Date.now();
    const shown = `${command} ${args.join(' ')}`;
    if (!quiet) progress(`${shown} ...`);
    log.write(`\n$ ${shown}\n`);
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      const collect = (chunk: Buffer) => {
        output += chunk.toString();
        log.write(chunk);
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
      child.on('close', (code) => {
        clearTimeout(timer);
        if (!quiet) progress(`${shown}: exit ${code} in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
        if (code === 0) resolve(output);
        else reject(new Error(`${shown} exited ${code}; last lines (full log ${LOG_FILE}):\n${output.split('\n').slice(-30).join('\n')}`));
      });
    });
  }
  const make = (...args: string[]) => run('make', args, { timeoutMs: 25 * MINUTE });
  const dockerCli = (...args: string[]) => run('docker', args, { quiet: true });
  const containersOf = async (service: string, all = false) =>
    (await dockerCli('ps', ...(all ? ['-a'] : []), '--filter', `label=com.docker.compose.project=${PROJECT}`, '--filter', `label=com.docker.compose.service=${service}`, '--format', '{{.Names}}'))
      .split('\n')
      .filter(Boolean)
      .sort();

  // ---------------------------------------------------------------- HTTP helpers
  const consul = async <T>(pathname: string): Promise<T> => {
    const response = await fetch(`http://127.0.0.1:${ports.consul}${pathname}`);
    if (!response.ok) throw new Error(`consul ${pathname}: ${response.status}`);
    return (await response.json()) as T;
  };
  interface Entry { Service: { ID: string; Service: string; Address: string }; Checks: Array<{ Status: string; ServiceID: string }> }
  const entries = (service: string) => consul<Entry[]>(`/v1/health/service/${service}`);
  const passingIds = async (service: string) =>
    (await entries(service)).filter((e) => e.Checks.every((c) => c.Status === 'passing')).map((e) => e.Service.ID).sort();
  const gateway = async (method: string, pathname: string, options: { token?: string; body?: unknown } = {}) => {
    const response = await fetch(`http://127.0.0.1:${ports.gateway}${pathname}`, {
      method,
      headers: {
        ...(options.body !== undefined && { 'content-type': 'application/json' }),
        ...(options.token && { authorization: `Bearer ${options.token}` }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    let body: any = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON (the docs page): kept as text.
    }
    return { status: response.status, body, servedBy: response.headers.get('x-served-by'), gatewayId: response.headers.get('x-gateway') };
  };
  /** Calls `pathname` `lanes` at a time until `work` resolves; counts what did not answer 2xx. */
  async function underLoad(pathname: string, work: () => Promise<void>, lanes = 4) {
    let stop = false;
    const tally = { ok: 0, failed: 0, failures: [] as string[], servedBy: new Set<string>() };
    const lane = async () => {
      while (!stop) {
        try {
          const answer = await gateway('GET', pathname);
          if (answer.status < 300) {
            tally.ok += 1;
            if (answer.servedBy) tally.servedBy.add(answer.servedBy);
          } else {
            tally.failed += 1;
            tally.failures.push(`${answer.status} ${JSON.stringify(answer.body)}`);
          }
        } catch (error) {
          tally.failed += 1;
          tally.failures.push((error as Error).message);
        }
      }
    };
    const running = Array.from({ length: lanes }, lane);
    try {
      await work();
    } finally {
      stop = true;
      await Promise.all(running);
    }
    return tally;
  }
  const rotation = async (pathname: string, calls: number, token?: string) => {
    const seen = new Set<string>();
    for (let i = 0; i < calls; i++) {
      const answer = await gateway('GET', pathname, { token });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      seen.add(answer.servedBy!);
    }
    return [...seen].sort();
  };

  beforeAll(async () => {
    for (const name of Object.keys(ports) as Array<keyof typeof ports>) ports[name] = await freePort();
    env = {
      ...process.env,
      LOCAL_IMAGES: '1',
      DOCKER_HOST: docker.host,
      COMPOSE_PROJECT_NAME: PROJECT,
      CONSUL_UI_PORT: String(ports.consul),
      GATEWAY_PORT: String(ports.gateway),
      WEBUI_PORT: String(ports.webui),
      JAEGER_UI_PORT: String(ports.jaeger),
      // The engine's own CLI settings only (the Compose plugin): never the user's.
      DOCKER_CONFIG: path.join(CACHE, 'docker-config'),
    };
    progress(`engine ${docker.host}${docker.startedByUs ? ' (started for this run)' : ''}; ports ${JSON.stringify(ports)}; log ${LOG_FILE}`);
    // A clean state: whatever an interrupted earlier run left of this project goes first.
    await run('bash', ['scripts/docker/compose.sh', 'down', '--volumes', '--remove-orphans'], { quiet: true });
  }, 30 * MINUTE);

  afterAll(async () => {
    if (env) await run('bash', ['scripts/docker/compose.sh', 'down', '--volumes', '--remove-orphans'], { quiet: true }).catch(() => {});
    // Each source change leaves the previous app image dangling: on our private engine (never on
    // a user's), drop them so the cache does not grow run after run.
    if (docker.host === `unix://${path.join(CACHE, 'docker.sock')}`) await run('docker', ['image', 'prune', '--force'], { quiet: true }).catch(() => {});
    if (docker.startedByUs) spawnSync('bash', [path.join(REPO_ROOT, 'scripts/docker/daemon.sh'), 'stop'], { stdio: 'ignore' });
    log.end();
  }, 5 * MINUTE);

  it('starts with make init && make migrate && make app', async () => {
    expect(await make('init')).toMatch(/consul-1\s+Healthy/);
    expect(await make('migrate')).toMatch(/\[migrate\] done in \d+ ms/);
    await make('app');
  }, 60 * MINUTE);

  it('registers every service in the stack\'s Consul, each instance passing at its container address', async () => {
    const expected: Record<string, number> = { gateway: 1, auth: 1, social: 1, messenger: 2, rng: 2, hasher: 1, worker: 1, webui: 1 };
    for (const [service, count] of Object.entries(expected)) {
      const ids = await waitFor(`${count} passing ${service}`, async () => {
        const passing = await passingIds(service);
        return passing.length === count && passing;
      }, { timeoutMs: 30_000, intervalMs: 250 });
      for (const entry of await entries(service)) {
        expect(entry.Service.ID).toMatch(new RegExp(`^${service}-[0-9a-f]{12}-\\d+$`));
        expect(entry.Service.Address).not.toMatch(/^127\./);
      }
      progress(`${service}: ${ids.join(', ')}`);
    }
  });

  it('answers through the published ports: gateway, webui, Jaeger with traces', async () => {
    const rng = await gateway('GET', '/api/v1/rng/8');
    expect(rng.status).toBe(200);
    expect(rng.servedBy).toMatch(/^rng-[0-9a-f]{12}-3000$/);
    expect(rng.gatewayId).toMatch(/^gateway-[0-9a-f]{12}-8080$/);
    expect((await gateway('GET', '/api/docs')).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${ports.webui}/`)).status).toBe(200);
    await waitFor('gateway traces in the stack\'s Jaeger', async () => {
      const { data } = (await (await fetch(`http://127.0.0.1:${ports.jaeger}/api/services`)).json()) as { data: string[] | null };
      return data?.includes('gateway') && data.includes('rng');
    }, { timeoutMs: 30_000, intervalMs: 500 });
  });

  /** A signed-in user of the journey, for the messenger rotation after scaling. */
  let journeyToken = '';
  it('carries the API journey: sign-up, sign-in, friends, post, feed, messenger', async () => {
    const run = Date.now().toString(36);
    const password = 'correct horse battery staple';
    const signUp = async (firstName: string) => {
      const answer = await gateway('POST', '/api/v1/auth/sign-up', {
        body: { email: `${firstName.toLowerCase()}.${run}@compose.test`, password, firstName, lastName: 'Compose', birthday: '1990-01-01' },
      });
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
      const signIn = await gateway('POST', '/api/v1/auth/sign-in', { body: { email: `${firstName.toLowerCase()}.${run}@compose.test`, password } });
      expect(signIn.status, JSON.stringify(signIn.body)).toBe(200);
      return { id: answer.body.id as string, token: signIn.body.accessToken as string };
    };
    const ada = await signUp('Ada');
    const grace = await signUp('Grace');
    expect((await gateway('POST', '/api/v1/social/friends/requests', { token: ada.token, body: { userId: grace.id } })).status).toBe(201);
    expect((await gateway('POST', `/api/v1/social/friends/requests/${ada.id}/accept`, { token: grace.token })).status).toBe(200);
    expect((await gateway('POST', '/api/v1/social/posts', { token: grace.token, body: { text: `Hello from compose ${run}` } })).status).toBe(201);
    const feed = await gateway('GET', '/api/v1/social/feed', { token: ada.token });
    expect(feed.status).toBe(200);
    expect(feed.body.items.map((p: { text: string }) => p.text)).toContain(`Hello from compose ${run}`);
    const chat = await gateway('POST', '/api/v1/messenger/chats', { token: ada.token, body: { peerId: grace.id } });
    expect(chat.status, JSON.stringify(chat.body)).toBe(201);
    const sent = await gateway('POST', `/api/v1/messenger/chats/${chat.body.id}/messages`, {
      token: ada.token,
      body: { text: 'Hi Grace!', clientMessageId: `compose-${run}` },
    });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    const chats = await gateway('GET', '/api/v1/messenger/chats', { token: grace.token });
    expect(chats.body.items[0]).toMatchObject({ unread: 1, lastMessage: { text: 'Hi Grace!' } });
    // Both messenger instances serve: calls rotate.
    expect(await rotation('/api/v1/messenger/chats', 6, grace.token)).toEqual(await passingIds('messenger'));
    journeyToken = grace.token;
  });

  it('make scale SERVICE=rng N=3 and SERVICE=messenger N=3: the gateway rotates over every instance, the miner speeds up', async () => {
    const stats = async () => (await gateway('GET', '/api/v1/miner/stats')).body as { hashesPerSecond: number; rng: { passing: string[]; served: Record<string, number> } };
    const before = await waitFor('the miner at two rng instances\' pace', async () => {
      const s = await stats();
      return s.rng.passing.length === 2 && s.hashesPerSecond > 0 && s;
    }, { timeoutMs: 30_000, intervalMs: 500 });
    await make('scale', 'SERVICE=rng', 'N=3');
    const rng = await waitFor('3 passing rng', async () => (await passingIds('rng')).length === 3 && passingIds('rng'), { timeoutMs: 15_000, intervalMs: 100 });
    await waitFor('x-served-by over all 3 rng instances', async () => JSON.stringify(await rotation('/api/v1/rng/8', 6)) === JSON.stringify(rng), { timeoutMs: 15_000, intervalMs: 100 });
    const after = await waitFor(`hashes/s above ${before.hashesPerSecond.toFixed(1)} with 3 rng`, async () => {
      const s = await stats();
      return s.rng.passing.length === 3 && rng.every((id) => (s.rng.served[id] ?? 0) > 0) && s.hashesPerSecond > before.hashesPerSecond * 1.2 && s;
    }, { timeoutMs: 60_000, intervalMs: 1_000 });
    progress(`hashes/s ${before.hashesPerSecond.toFixed(1)} with 2 rng → ${after.hashesPerSecond.toFixed(1)} with 3`);

    await make('scale', 'SERVICE=messenger', 'N=3');
    const messengers = await waitFor('3 passing messenger', async () => (await passingIds('messenger')).length === 3 && passingIds('messenger'), { timeoutMs: 15_000, intervalMs: 100 });
    await waitFor('x-served-by over all 3 messenger instances', async () => JSON.stringify(await rotation('/api/v1/messenger/chats', 6, journeyToken)) === JSON.stringify(messengers), { timeoutMs: 15_000, intervalMs: 100 });
  }, 10 * MINUTE);

  let stoppedId = '';
  it('docker stop of a scaled rng container under load: no call fails, it leaves Consul and exits 0', async () => {
    const [victim] = (await containersOf('rng')).slice(-1);
    const hostname = (await dockerCli('inspect', '--format', '{{.Config.Hostname}}', victim!)).trim();
    stoppedId = `rng-${hostname}-3000`;
    expect(await passingIds('rng')).toContain(stoppedId);
    const tally = await underLoad('/api/v1/rng/8', async () => {
      await new Promise((resolve) => setTimeout(resolve, 1_000)); // load running before the stop
      await dockerCli('stop', victim!);
      await waitFor(`${stoppedId} gone from Consul`, async () => !(await entries('rng')).some((e) => e.Service.ID === stoppedId), { timeoutMs: 5_000 });
    });
    progress(`docker stop ${victim}: ${tally.ok} calls answered, ${tally.failed} failed`);
    expect(tally.failures).toEqual([]);
    expect(tally.ok).toBeGreaterThan(5);
    expect((await dockerCli('inspect', '--format', '{{.State.ExitCode}}', victim!)).trim()).toBe('0');
    expect(await dockerCli('logs', victim!)).toContain('deregistered from consul');
  }, 2 * MINUTE);

  it('docker kill of another: its breakers eject it (no call fails), Consul marks it critical', async () => {
    const running = await containersOf('rng');
    const victim = running[0]!;
    const hostname = (await dockerCli('inspect', '--format', '{{.Config.Hostname}}', victim)).trim();
    const killedId = `rng-${hostname}-3000`;
    const tally = await underLoad('/api/v1/rng/8', async () => {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await dockerCli('kill', victim);
      await waitFor(`${killedId} critical in Consul`, async () => {
        const entry = (await entries('rng')).find((e) => e.Service.ID === killedId);
        return entry?.Checks.some((c) => c.Status === 'critical');
      }, { timeoutMs: 15_000, intervalMs: 200 });
    });
    progress(`docker kill ${victim}: ${tally.ok} calls answered, ${tally.failed} failed`);
    expect(tally.failures).toEqual([]);
    // The gateway's own account of it: failed attempts on the killed instance, each retried elsewhere.
    const gatewayContainer = (await containersOf('gateway'))[0]!;
    const metrics = await dockerCli('exec', gatewayContainer, 'node', '-e', "fetch('http://127.0.0.1:8081/metrics').then(r => r.text()).then(t => process.stdout.write(t))");
    const errors = metrics.split('\n').filter((line) => line.startsWith('switchyard_upstream_requests_total') && line.includes(`instance="${killedId}"`) && !line.includes('outcome="ok"'));
    expect(errors.length, `no failed attempt on ${killedId} counted:\n${metrics.split('\n').filter((l) => l.includes('rng')).join('\n')}`).toBeGreaterThan(0);
  }, 2 * MINUTE);

  it('make down: every container and the network are gone, the service containers exited cleanly, volumes stay', async () => {
    const appContainers = (await Promise.all(['gateway', 'auth', 'social', 'messenger', 'rng', 'hasher', 'worker', 'webui'].map((s) => containersOf(s)))).flat();
    // Every running service container must stop gracefully: deregistered, drained, exit 0.
    const events = spawn('docker', ['events', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--filter', 'event=die', '--format', '{{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}}'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
    let died = '';
    events.stdout.on('data', (chunk: Buffer) => (died += chunk.toString()));
    await new Promise((resolve) => setTimeout(resolve, 300)); // the event stream is attached
    await make('down');
    events.kill();
    const exits = new Map(died.split('\n').filter(Boolean).map((line) => line.split(' ') as [string, string]));
    for (const name of appContainers) expect(exits.get(name), `${name}'s exit code`).toBe('0');
    expect(await dockerCli('ps', '-a', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--format', '{{.Names}}')).toBe('');
    expect(await dockerCli('network', 'ls', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--format', '{{.Name}}')).toBe('');
    expect(await fetch(`http://127.0.0.1:${ports.consul}/v1/status/leader`).then(() => 'answers', () => 'refused')).toBe('refused');
    expect(await dockerCli('volume', 'ls', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--format', '{{.Name}}')).toMatch(/mysql-data/);
  }, 5 * MINUTE);

  it('make clean removes the volumes too', async () => {
    await make('clean');
    expect(await dockerCli('volume', 'ls', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--format', '{{.Name}}')).toBe('');
    progress('done');
  }, 2 * MINUTE);
});
