/**
 * Gateway hop: what one proxy hop costs, side by side in one run. A raw node:http backend
 * answering 8 bytes is registered in Consul; wrk loads it directly and through each contender:
 * a raw node:http server + undici Pool (the Node limit for a keep-alive hop), our gateway (a route
 * to that backend, everything on: access log, metrics, per-client rate limit in Redis, tracing),
 * the gateway with tracing off, and express + http-proxy-middleware as its README shows it and
 * with a keep-alive agent. Then one more gateway run under `node --cpu-prof`: its self time per
 * layer. Run: npm run bench -- gateway-hop
 *
 * This file is also every contender's process: `gateway-hop.ts <role>` (roles below).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, Agent as HttpAgent, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, machineLine, median, writeSection } from './report.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const CONSUL = process.env.CONSUL_HTTP_ADDR ?? 'http://127.0.0.1:8500';
const OTLP = process.env.BENCH_OTLP ?? 'http://127.0.0.1:4318';
const SELF = fileURLToPath(import.meta.url);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BACKEND = 'hopbackend';
/**
 * Which contenders run: BENCH_ONLY=direct,raw,gateway,gateway-off,hpm,hpm-keepalive picks some
 * (a quick before/after of one change); only a full run (and BENCH_PROFILE not 0) profiles and
 * writes BENCHMARKS.md.
 */
const ONLY = process.env.BENCH_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
const PROFILE = process.env.BENCH_PROFILE !== '0';
/** The production sampler of the tracing-on rows: parent-based, a new trace sampled at this ratio (OTel's standard variables). */
const SAMPLE_RATIO = process.env.BENCH_SAMPLE_RATIO ?? '0.01';

const role = process.argv[2];
if (role) await runRole(role);
else await orchestrate();

// ------------------------------------------------------------------ contender processes

/** Each role listens on an ephemeral port and prints `LISTENING <port>` (the gateway logs its own line). */
async function runRole(name: string): Promise<void> {
  const target = process.env.BACKEND_URL ?? '';
  const announce = (server: Server) => server.listen(0, '127.0.0.1', () => console.log(`LISTENING ${(server.address() as { port: number }).port}`));
  if (name === 'backend') {
    // It also stands in for auth: the gateway fetches the key set that verifies the bench's token here.
    const jwks = process.env.BENCH_JWKS ?? '{"keys":[]}';
    const server = createServer((req, res) => {
      if (req.url === '/.well-known/jwks.json') {
        res.setHeader('content-type', 'application/json');
        return void res.end(jwks);
      }
      res.setHeader('content-type', 'application/octet-stream');
      res.setHeader('x-served-by', 'backend');
      res.end('12345678');
    });
    server.keepAliveTimeout = 60_000;
    announce(server);
  } else if (name === 'raw-proxy') {
    // The least a keep-alive hop can do in Node: no routing, no headers rewritten, body streamed.
    const { Pool } = await import('undici');
    const pool = new Pool(target, { connections: 64, keepAliveTimeout: 60_000 });
    const server = createServer((req, res) => {
      pool
        .request({ path: req.url!, method: req.method as 'GET', headers: { 'x-forwarded-for': req.socket.remoteAddress ?? '' } })
        .then((answer) => {
          res.writeHead(answer.statusCode, answer.headers as Record<string, string>);
          answer.body.pipe(res);
        })
        .catch(() => res.writeHead(502).end());
    });
    server.keepAliveTimeout = 60_000;
    announce(server);
  } else if (name === 'hpm-default' || name === 'hpm-keepalive') {
    const { default: express } = await import('express');
    const { createProxyMiddleware } = await import('http-proxy-middleware');
    const app = express();
    const agent = name === 'hpm-keepalive' ? new HttpAgent({ keepAlive: true, maxSockets: 64 }) : undefined;
    app.use('/', createProxyMiddleware({ target, changeOrigin: true, ...(agent ? { agent } : {}) }));
    const server = createServer(app);
    server.keepAliveTimeout = 60_000;
    announce(server);
  } else if (name === 'gateway') {
    const { z } = await import('@switchyard/infra');
    const { startGateway } = await import('../gateway/src/gateway.js');
    const { defineRoute, path } = await import('../gateway/src/route-table.js');
    const { gatewayRoutes } = await import('../gateway/src/routes/index.js');
    const hop = defineRoute({
      method: 'GET',
      path: '/bench/hop',
      service: BACKEND,
      // Token verification and the per-user limit are part of the hop measured.
      auth: 'user',
      params: z.object({}),
      upstreamPath: () => path`/hop`,
      timeouts: { attemptTimeoutMs: 2_000, deadlineMs: 4_000 },
      docs: { summary: 'bench: the 8-byte backend' },
    });
    await startGateway([...gatewayRoutes, hop]);
  } else throw new Error(`unknown role ${name}`);
}

// ------------------------------------------------------------------ orchestration

function startRole(name: string, env: Record<string, string>, nodeFlags: string[] = []): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', SELF, name], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', ADMIN_PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk;
      for (const line of buffered.split('\n')) {
        const own = /^LISTENING (\d+)/.exec(line);
        const infra = line.includes('"serviceId"') && line.includes('listening') ? (JSON.parse(line) as { port: number }) : undefined;
        if (own || infra) {
          // From now on its output (the gateway's access log) is read and dropped, as a terminal would take it.
          child.stdout!.off('data', onData).on('data', () => {});
          return resolve({ port: own ? Number(own[1]) : infra!.port, child });
        }
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before listening: ${buffered.slice(-2000)}`)));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => (clearTimeout(timer), resolve()));
    child.kill('SIGTERM');
  });
}

interface WrkResult {
  rps: number;
  /** The proxy process's CPU time (user + system) per request served, µs. */
  cpuUsPerRequest?: number;
  p50Us: number;
  p99Us: number;
  non2xx: number;
  errors: number;
}

/** Asynchronous on purpose: this process keeps reading the gateway's access log while wrk runs. */
async function wrk(url: string, connections: number, seconds: number, headers: Record<string, string> = {}): Promise<WrkResult> {
  const headerArgs = Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
  const child = spawn('wrk', ['-t', '1', '-c', String(connections), '-d', `${seconds}s`, '--latency', ...headerArgs, url], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`wrk failed (${code}): ${err}`);
  const us = (label: string) => {
    const m = new RegExp(`^\\s+${label}%\\s+([\\d.]+)(us|ms|s)\\b`, 'm').exec(out);
    if (!m) throw new Error(`wrk output without ${label}%: ${out}`);
    return Number(m[1]) * { us: 1, ms: 1000, s: 1_000_000 }[m[2] as 'us' | 'ms' | 's'];
  };
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)![1]),
    p50Us: us('50'),
    p99Us: us('99'),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    errors: errors ? errors.slice(1).map(Number).reduce((a, b) => a + b, 0) : 0,
  };
}

/** CPU time (user + system) a process has used so far, ms (/proc, clock ticks of 10 ms). */
function cpuMs(pid: number | undefined): number {
  if (!pid) return 0;
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function registerBackend(name: string, suffix: string, port: number): Promise<string> {
  const id = `${name}${suffix}-${port}`;
  const response = await fetch(`${CONSUL}/v1/agent/service/register`, {
    method: 'PUT',
    body: JSON.stringify({ ID: id, Name: `${name}${suffix}`, Address: '127.0.0.1', Port: port }),
  });
  if (!response.ok) throw new Error(`Consul refused the backend: ${response.status}`);
  return id;
}

async function waitAnswering(url: string, headers: Record<string, string> = {}): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const answer = await fetch(url, { headers }).catch(() => undefined);
    if (answer?.status === 200) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} never answered 200`);
}

interface Contender {
  name: string;
  url: string;
  headers: Record<string, string>;
  /** The proxy's process (none for the direct row): its CPU time per request is measured too. */
  pid?: number;
  stop: () => Promise<void>;
}

async function orchestrate(): Promise<void> {
  if (spawnSync('wrk', ['--version']).error) throw new Error('wrk is not installed (apt-get install -y wrk)');
  const suffix = `-hop${process.pid}`;
  const children: ChildProcess[] = [];
  const registered: string[] = [];
  try {
    // The bench's signed-in user: a key of its own, published by the backend as auth's JWKS.
    const { signingKey, accessToken, jwksOf } = await import('../gateway/test/tokens.js');
    const key = await signingKey('bench');
    const token = await accessToken(key, { expiresIn: 3_600 });
    const backend = await startRole('backend', { BENCH_JWKS: jwksOf(key) });
    children.push(backend.child);
    const backendUrl = `http://127.0.0.1:${backend.port}`;
    registered.push(await registerBackend(BACKEND, suffix, backend.port), await registerBackend('auth', suffix, backend.port));

    // Both gateways: rate limits on (Redis), high enough never to refuse this load (1 M/min is their maximum).
    const gatewayEnv = {
      SERVICE_NAME_SUFFIX: suffix,
      RATE_LIMIT_PER_MINUTE: '1000000',
      RATE_LIMIT_USER_PER_MINUTE: '1000000',
      ACCESS_LOG: 'true',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: SAMPLE_RATIO,
      // V8 flags for the gateways only, to test a hypothesis (e.g. --max-semi-space-size=64).
      ...(process.env.BENCH_GATEWAY_NODE_OPTIONS && { NODE_OPTIONS: process.env.BENCH_GATEWAY_NODE_OPTIONS }),
      // Any gateway variable, as JSON, to take one layer out at a time (e.g. {"ACCESS_LOG":"false"}).
      ...(JSON.parse(process.env.BENCH_GATEWAY_ENV ?? '{}') as Record<string, string>),
    };
    const signedIn = { authorization: `Bearer ${token}` };
    const contenders: Contender[] = [];
    const wanted = (key: string) => !ONLY || ONLY.includes(key);
    if (wanted('direct')) contenders.push({ name: 'direct to the backend', url: `${backendUrl}/hop`, headers: {}, stop: async () => {} });
    const add = async (key: string, name: string, roleName: string, env: Record<string, string>, path: string, headers: Record<string, string> = {}) => {
      if (!wanted(key)) return;
      const started = await startRole(roleName, env);
      children.push(started.child);
      const url = `http://127.0.0.1:${started.port}${path}`;
      await waitAnswering(url, headers);
      contenders.push({ name, url, headers, pid: started.child.pid, stop: () => stopChild(started.child) });
    };
    await add('raw', 'raw node:http + undici Pool (the Node limit)', 'raw-proxy', { BACKEND_URL: backendUrl }, '/hop');
    await add(
      'gateway',
      `**our gateway**, tracing on (parent-based, ${Number(SAMPLE_RATIO) * 100} % of new traces sampled, OTLP → Jaeger)`,
      'gateway',
      { ...gatewayEnv, OTEL_EXPORTER_OTLP_ENDPOINT: OTLP },
      '/bench/hop',
      signedIn,
    );
    await add('gateway-off', '**our gateway**, tracing off', 'gateway', { ...gatewayEnv, OTEL_EXPORTER_OTLP_ENDPOINT: '' }, '/bench/hop', signedIn);
    await add('hpm', 'express + http-proxy-middleware, README form (no keep-alive)', 'hpm-default', { BACKEND_URL: backendUrl }, '/hop');
    await add('hpm-keepalive', 'express + http-proxy-middleware + keep-alive agent', 'hpm-keepalive', { BACKEND_URL: backendUrl }, '/hop');

    for (const c of contenders) await wrk(c.url, CONNECTIONS, 2, c.headers); // warm-up: JIT, pools
    const many: Record<string, WrkResult[]> = {};
    const one: Record<string, WrkResult[]> = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of contenders) {
        const cpuBefore = cpuMs(c.pid);
        const loaded = await wrk(c.url, CONNECTIONS, SECONDS, c.headers);
        // CPU per request: what a change saves, whatever else this shared machine was doing meanwhile.
        loaded.cpuUsPerRequest = c.pid ? ((cpuMs(c.pid) - cpuBefore) * 1000) / (loaded.rps * SECONDS) : undefined;
        (many[c.name] ??= []).push(loaded);
        (one[c.name] ??= []).push(await wrk(c.url, 1, Math.max(2, Math.round(SECONDS / 2)), c.headers));
        const cpu = many[c.name]!.at(-1)!.cpuUsPerRequest;
        console.log(
          `round ${round + 1} ${c.name}: ${fmt(many[c.name]!.at(-1)!.rps, 0)} req/s${cpu ? `, ${fmt(cpu, 0)} µs CPU per request` : ''}, p50 at 1 connection ${fmt(one[c.name]!.at(-1)!.p50Us, 0)} µs`,
        );
      }
    }
    for (const c of contenders) {
      const rs = many[c.name]!;
      const bad = rs.reduce((n, r) => n + r.non2xx + r.errors, 0);
      console.log(
        `${c.name}: median ${fmt(median(rs.map((r) => r.rps)), 0)} req/s (${rs.map((r) => fmt(r.rps, 0)).join(' / ')}), ` +
          `1 connection p50 ${fmt(median(one[c.name]!.map((r) => r.p50Us)), 0)} µs p99 ${fmt(median(one[c.name]!.map((r) => r.p99Us)), 0)} µs, ` +
          `CPU ${c.pid ? fmt(median(rs.map((r) => r.cpuUsPerRequest ?? 0)), 0) : '—'} µs per request, non-2xx+errors ${bad}`,
      );
    }
    for (const c of contenders) await c.stop();

    const profile = PROFILE && (!ONLY || ONLY.includes('profile')) ? await profileGateway(gatewayEnv, signedIn) : undefined;
    if (profile) console.log(`${profile.table}\n\n${profile.top}`);
    if (ONLY) return;
    const table = resultTable(contenders.map((c) => c.name), many, one);
    console.log(table);
    if (profile) writeSection('gateway-hop', sectionText(table, profile));
  } finally {
    for (const id of registered) await fetch(`${CONSUL}/v1/agent/service/deregister/${id}`, { method: 'PUT' }).catch(() => {});
    await Promise.all(children.map(stopChild));
  }
}

function resultTable(names: string[], many: Record<string, WrkResult[]>, one: Record<string, WrkResult[]>): string {
  const med = (rs: WrkResult[], key: Exclude<keyof WrkResult, 'cpuUsPerRequest'>) => median(rs.map((r) => r[key]));
  const raw = med(many[names[1]!]!, 'rps');
  const directP50 = med(one[names[0]!]!, 'p50Us');
  const directP99 = med(one[names[0]!]!, 'p99Us');
  const rows = names.map((name, i) => {
    const rs = many[name]!;
    const bad = rs.reduce((n, r) => n + r.non2xx + r.errors, 0) + one[name]!.reduce((n, r) => n + r.non2xx + r.errors, 0);
    const p50 = med(one[name]!, 'p50Us');
    const p99 = med(one[name]!, 'p99Us');
    const added = i === 0 ? `— (${fmt(p50, 0)} µs)` : `+${fmt(p50 - directP50, 0)} µs`;
    const addedP99 = i === 0 ? `— (${fmt(p99, 0)} µs)` : `+${fmt(p99 - directP99, 0)} µs`;
    const cpu = i === 0 ? '—' : `${fmt(median(rs.map((r) => r.cpuUsPerRequest ?? 0)), 0)} µs`;
    return `| ${name} | ${fmt(Math.min(...rs.map((r) => r.rps)), 0)} | ${fmt(med(rs, 'rps'), 0)} | ${i === 0 ? '—' : `${fmt(med(rs, 'rps') / raw, 2)}×`} | ${cpu} | ${added} | ${addedP99} | ${bad} |`;
  });
  const gw = (i: number) => med(many[names[i]!]!, 'rps');
  const verdict = (ok: boolean) => (ok ? 'met' : '**not met**');
  const goals = [
    `Goals, tracing on (off): gateway ${fmt(gw(2) / raw, 2)}× (${fmt(gw(3) / raw, 2)}×) the raw proxy, goal 0.6×: ${verdict(gw(2) / raw >= 0.6)};`,
    `${fmt(gw(2) / gw(4), 2)}× http-proxy-middleware's README form, goal 3×: ${verdict(gw(2) / gw(4) >= 3)};`,
    `${fmt(gw(2) / gw(5), 2)}× it with keep-alive, goal 1.2×: ${verdict(gw(2) / gw(5) >= 1.2)};`,
    `added p50 +${fmt(med(one[names[2]!]!, 'p50Us') - directP50, 0)} µs, goal ≤ +100 µs: ${verdict(med(one[names[2]!]!, 'p50Us') - directP50 <= 100)};`,
    `added p99 +${fmt(med(one[names[2]!]!, 'p99Us') - directP99, 0)} µs, goal ≤ +1 000 µs: ${verdict(med(one[names[2]!]!, 'p99Us') - directP99 <= 1000)}.`,
  ].join(' ');
  return [
    `| path | min req/s | median req/s | vs raw Node proxy | proxy CPU per request | added p50 at 1 connection | added p99 at 1 connection | non-2xx + socket errors |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    goals,
  ].join('\n');
}

// ------------------------------------------------------------------ profile

interface CpuProfile {
  startTime: number;
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }>;
  samples: number[];
  timeDeltas: number[];
}

interface ProfileFindings {
  table: string;
  top: string;
  rps: number;
}

/** One more gateway (tracing on) under `node --cpu-prof` and the same wrk load; self time per layer. */
async function profileGateway(env: Record<string, string>, headers: Record<string, string>): Promise<ProfileFindings> {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-hop-prof-'));
  const spawnedAt = performance.now();
  const started = await startRole('gateway', { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: OTLP }, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
  const url = `http://127.0.0.1:${started.port}/bench/hop`;
  try {
    await waitAnswering(url, headers);
    await wrk(url, CONNECTIONS, 2, headers);
    // Only the samples taken under the measured load count: not the start (module loading,
    // TypeScript compiled by tsx) nor the shutdown. Offsets from the spawn are a few ms off the
    // profiler's own clock, which a window of seconds does not mind.
    const loadFrom = performance.now() - spawnedAt;
    const result = await wrk(url, CONNECTIONS, Math.max(SECONDS, 8), headers);
    const loadTo = performance.now() - spawnedAt;
    await stopChild(started.child);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error(`no .cpuprofile in ${dir}`);
    console.log(`profile: ${join(dir, file)} (open it in Chrome DevTools → Performance, or speedscope)`);
    return { ...analyse(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile, loadFrom + 200, loadTo - 200), rps: result.rps };
  } finally {
    await stopChild(started.child);
  }
}

/** Which layer a function belongs to, by where its code lives. */
export function layerOf(url: string, functionName: string): string {
  if (!url) {
    if (functionName === '(garbage collector)') return 'garbage collection';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'V8/native (program)';
    return 'native/builtins';
  }
  const rules: Array<[RegExp, string]> = [
    [/\/gateway\/src\//, 'gateway (route table, proxy, headers, edge checks)'],
    [/\/infra\/src\/client\//, 'infra ServiceClient (retry, breaker, attempt, transport)'],
    [/\/infra\/src\/server\//, 'infra server (middleware, access log, spans)'],
    [/\/infra\/src\/metrics/, 'metrics (prom-client + infra)'],
    [/\/infra\/src\//, 'infra (other)'],
    [/node_modules\/(@opentelemetry|protobufjs)/, 'tracing (OpenTelemetry)'],
    [/node_modules\/(pino|sonic-boom|thread-stream|fast-redact|quick-format)/, 'logging (pino)'],
    [/node_modules\/prom-client/, 'metrics (prom-client + infra)'],
    [/node_modules\/(express|router|body-parser|finalhandler|send|serve-static|path-to-regexp|on-finished|parseurl|qs|accepts|type-is|content-type|negotiator|mime|vary|etag|fresh|proxy-addr|forwarded|depd|encodeurl|escape-html|cookie|cors|helmet)\//, 'express + middleware packages'],
    [/node_modules\/(rate-limiter-flexible|ioredis|redis-parser|@ioredis|denque|cluster-key-slot)/, 'rate limit (Redis)'],
    [/node_modules\/(opossum)/, 'infra ServiceClient (retry, breaker, attempt, transport)'],
    [/node_modules\/undici\//, 'undici (upstream HTTP client)'],
    [/node_modules\/zod/, 'validation (zod)'],
    [/^node:(_http|http|net|stream|internal\/(http|streams|stream_base|net|js_stream))|^node:internal\/(http|streams)/, 'Node http/net/streams'],
    [/^node:/, 'Node other (timers, events, async hooks, ...)'],
  ];
  for (const [pattern, layer] of rules) if (pattern.test(url)) return layer;
  return 'other packages';
}

/** Self time per layer and per function, over the samples taken between `fromMs` and `toMs` after the start. */
function analyse(profile: CpuProfile, fromMs: number, toMs: number): { table: string; top: string } {
  const selfUs = new Map<number, number>();
  let at = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at / 1000 >= fromMs && at / 1000 <= toMs) selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });
  const byLayer = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busy = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    const layer = layerOf(node.callFrame.url, node.callFrame.functionName);
    if (layer === 'idle') continue;
    busy += us;
    byLayer.set(layer, (byLayer.get(layer) ?? 0) + us);
    const where = node.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(infra|gateway)\//, '$1/');
    const key = `${node.callFrame.functionName || '(anonymous)'} ${where ? `(${where}:${node.callFrame.lineNumber + 1})` : ''} — ${layer}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  }
  const share = (us: number) => `${fmt((100 * us) / busy, 1)} %`;
  const table = [
    '| layer | share of busy CPU (self time) |',
    '| --- | --- |',
    ...[...byLayer.entries()].sort((a, b) => b[1] - a[1]).map(([layer, us]) => `| ${layer} | ${share(us)} |`),
  ].join('\n');
  const top = [...byFunction.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15)
    .map(([fn, us]) => `- ${share(us)} \`${fn.split(' — ')[0]}\` — ${fn.split(' — ')[1]}`)
    .join('\n');
  return { table, top };
}

function sectionText(table: string, profile: ProfileFindings): string {
  return `## Gateway hop: what one proxy hop costs

Goals (issue 11): gateway ≥ 0.6× the raw node:http + undici proxy with everything on; ≥ 3× express +
http-proxy-middleware in its README form and ≥ 1.2× it with keep-alive; added p50 ≤ +100 µs and
p99 ≤ +1 ms at 1 connection versus calling the backend directly.

Backend: a raw \`node:http\` server answering 8 bytes, registered in Consul (the gateway finds it
through its watcher, like any service); it also serves the bench's JWKS as the stand-in auth. Load:
wrk (1 thread), ${CONNECTIONS} connections for ${SECONDS} s, and 1 connection for the added latency; ${ROUNDS} interleaved
rounds after a warm-up, min and median. Everything (wrk, backend, proxy) shares this machine's 2
cores. The gateway runs with its defaults plus a route to the backend with \`auth: 'user'\`, called
with a valid access token (EdDSA, verified against auth's JWKS), and everything on: access log
(stdout, read by the bench as a terminal would), metrics, the per-client and per-user rate limits
shared in Redis (RATE_LIMIT_PER_MINUTE and RATE_LIMIT_USER_PER_MINUTE = 1000000, so they never refuse
this load), tracing with a **parent-based ratio sampler, ${Number(SAMPLE_RATIO) * 100} % of new traces** (OpenTelemetry's standard
\`OTEL_TRACES_SAMPLER=parentbased_traceidratio\`, \`OTEL_TRACES_SAMPLER_ARG=${SAMPLE_RATIO}\`, which the SDK reads;
unset, every trace is sampled) exported over OTLP to the local Jaeger, or no exporter at all
(tracing off: the OpenTelemetry API's no-op). "Proxy CPU per request" is the proxy process's CPU
time (user + system, from /proc) over the requests it served at ${CONNECTIONS} connections: it measures a change
even when the shared machine's load moves the req/s.

${table}

### What each change bought (issue 11, this session)

Measured one change at a time, cumulatively, on the same loaded machine: the gateway alone (same
setup as above, sampler at 1 %, authenticated route), 3 rounds × 5 s at 32 connections, median;
"share" is the self time the change removed in the profile taken before it. Back-to-back runs of
unchanged code differ by up to ±8 % in CPU per request and ±15 % in req/s here.

| change | req/s before → after | CPU per request before → after | share of profile it removed |
| --- | --- | --- | --- |
| sampler: parent-based always-on → parent-based 1 % ratio (configuration: OTel's standard variables) | 4544 → 5382 | 235 → 200 µs | tracing 11.6 % → ~5 % (tracing off: 184 µs) |
| rate limits: Redis allowance taken in leases (1 % of the allowance per round trip) instead of an EVALSHA per request (gateway/src/allowance-leases.ts) | 2425 → 2707 | 522 → 486 µs | rate-limit packages 4.6 % + the Redis socket writes (\`writeUtf8String\`) 12.3 % → 0 |
| token check: verified tokens remembered by their bytes for ≤ 30 s, never past \`exp\` (gateway/src/verified-tokens.ts) | 2707 → 3380 | 486 → 294 µs | Ed25519 verification (\`jobPromise\`, WebCrypto) 19.7 % → 0 |
| helmet: its headers computed once at startup and set in one middleware (gateway/src/browser-policy.ts) | 3380 → 3790 | 294 → 287 µs | express + middleware 4.2 % → 3.6 % |
| relay: hand-written with back-pressure instead of \`stream.pipeline\` (gateway/src/proxy.ts) | 3790 → 5382 | 287 → 200 µs | \`DOMException\` (pipeline's AbortController at every finish) 7.1 % → 0 |
| ServiceClient: no per-call closures named by tsx (\`__name\`: esbuild's keepNames defines a property on each), the answer a class, listeners as objects (infra/src/client) | within noise here | ServiceClient alone (in-process micro-bench, 16 concurrent calls): 49 → 46 µs per call, raw undici 22 µs | \`__name\` in infra/src/client: 5.2 % → 0 of a client-only profile |
| tried and reverted: pino writing asynchronously (\`sync: false\`) | 5200 / 4565 → 5279 / 5507 | 213 / 204 → 211 / 203 µs | none measurable: reverted (no reason to risk losing lines) |
| tried and reverted: the relay as a class with unnamed listeners | — | — | p99 at 1 connection went 2.5 ms → 8 ms in 4 of 4 runs; reverted |

Rate-limit trade-off (documented in allowance-leases.ts): no instance ever admits past the shared
allowance, but points an instance leased and has not used yet count as used, so a client spread over
N gateway instances may be refused up to N × (lease − 1) requests early in its window. Allowances
under 200 per minute lease one point at a time: exactly the old behaviour (the rate-limit tests use 2–6).

### Where the gateway's CPU goes now (\`node --cpu-prof\`, tracing on, ${CONNECTIONS} connections, ${fmt(profile.rps, 0)} req/s while profiled)

Self time grouped by where the code lives (a function's own time, not its callees'):

${profile.table}

Top self-time functions:

${profile.top}

### What is left

- **No hot spot is left in the gateway's own code.** What remains is the platform's per-request
  stack: express's router and 8 middleware hops (infra's app), the access log (pino: its redaction,
  \`@pinojs/redact\`, parses all 21 paths on every line, ~3 %), the server span and two client spans
  created and dropped by the sampler, prom-client hashing labels on every observation, opossum's
  breaker bookkeeping, undici and Node's own http, and GC (~8–10 %) for all of their allocations.
  Each is 1–5 %; 0.6× the raw proxy (~75 µs of CPU per request against the raw proxy's ~45 µs) is
  not reachable by trimming them. It needs the gateway's hot path off express: a node:http listener
  dispatching the route table (find-my-way) with the access log, metrics and span done in one place.
  That listener is created by infra (server/app.ts, run-service.ts), outside this change's files.
- **p99 at 1 connection stays at +4–8 ms** in every configuration measured (tracing off: +3.8 ms; access log
  off, tracing on: 4.0 and 8.3 ms), against +0.5 ms for the raw proxy: not explained yet. Ruled out,
  one layer at a time with BENCH_GATEWAY_ENV / BENCH_GATEWAY_NODE_OPTIONS (tracing off, 2 rounds):
  the rate limits (off: p99 4.2 ms), the access log and the rate limits together (off: 4.4 ms), and
  the young generation's size (\`--max-semi-space-size=64\`: 3.3 against 4.0 ms). Left: express,
  the ServiceClient's timers and breaker, the OpenTelemetry context even with tracing off.
- The access log alone costs 20–36 µs of CPU per request (ACCESS_LOG=false: 164–183 µs against
  200–203 µs; with the rate limits off too, 6774 against 5558 req/s): up to a fifth of the hop.
- This bench runs the gateway under tsx (as \`make dev\` does), whose esbuild transform keeps function
  names with a \`defineProperty\` on every closure created in a named variable (\`__name\`, 1–3 % of a
  profile, which is why hot paths above avoid such closures). The container runs tsc's output, which
  has no \`__name\`: its hop costs a little less than this table says.
- Node 24's global HTTP agent keeps connections alive by default, so http-proxy-middleware's README
  form is no longer "a new connection per request": its two rows are close.
- This machine is shared and was loaded while measuring: compare ratios and CPU per request within
  the table, not absolute req/s across runs.

${machineLine()} Command: \`npm run bench -- gateway-hop\` (BENCH_ROUNDS, BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_SAMPLE_RATIO; BENCH_ONLY=raw,gateway,… for a quick partial run that writes nothing; BENCH_GATEWAY_ENV='{"ACCESS_LOG":"false"}' and BENCH_GATEWAY_NODE_OPTIONS for the gateways only; needs wrk).`;
}
