/**
 * Gateway hop: what one proxy hop costs, side by side in one run. A raw node:http backend
 * answering 8 bytes is registered in Consul; wrk loads it directly and through each contender:
 * a raw node:http server + undici Pool (the Node limit for a keep-alive hop), our gateway (a route
 * to that backend, everything on: access log, metrics, per-client rate limit in Redis, tracing),
 * the gateway with tracing off, express + http-proxy-middleware as its README shows it and with a
 * keep-alive agent, and our gateway as the container runs it (tsc's output on plain node, the
 * image's flags). Then one more gateway run under `node --cpu-prof`: its self time per layer.
 * Run: npm run bench -- gateway-hop
 *
 * This file is also every contender's process: `gateway-hop.ts <role>` (roles below).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { baselineCheckout, type BaselineCheckout } from './baseline-checkout.js';
import { listeningPort } from './listening.js';
import { deregisterAll, hopGatewayEnv, registerBackend, runRole, stopChild, waitAnswering } from './hop-roles.js';
import { compileTree, imageEnv } from './compiled-tree.js';
import { HPM_FRESH, analyse, resultTable, sectionText, timelineTable, type CpuProfile, type ProfileFindings, type WrkResult } from './gateway-hop-report.js';
import { fmt, median, writeSection } from './report.js';
import type { SerialLatency } from './serial-latency.js';
import { TIMELINE_PROBE, timedSerially, type SerialTimeline } from './serial-timeline.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
/** Each round's 1-connection run: its p99 is wrk's, corrected for stalls (see gateway-hop-findings.ts). */
const ONE_SECONDS = Number(process.env.BENCH_ONE_SECONDS ?? Math.max(2, Math.round(SECONDS / 2)));
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 6);
const OTLP = process.env.BENCH_OTLP ?? 'http://127.0.0.1:4318';
const SELF = fileURLToPath(import.meta.url);
const HOP_GATEWAY = fileURLToPath(new URL('./hop-gateway.mjs', import.meta.url));
const SERIAL_LATENCY = fileURLToPath(new URL('./serial-latency.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The backend's Consul name (bench/hop-gateway.mjs routes /bench/hop to it by this name). */
const BACKEND = 'hopbackend';
/**
 * Which contenders run: BENCH_ONLY=direct,raw,gateway,gateway-off,hpm,hpm-keepalive,raw-headers,hpm-fresh,container picks some
 * (a quick before/after of one change); only a full run (and BENCH_PROFILE not 0) profiles and
 * writes BENCHMARKS.md.
 */
const ONLY = process.env.BENCH_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
const PROFILE = process.env.BENCH_PROFILE !== '0';
/**
 * A git ref (BENCH_BASELINE=HEAD~3): the gateway at that commit runs as one more contender, from a
 * worktree beside this one (baseline-checkout.ts); its row comes last in the table.
 */
const BASELINE = process.env.BENCH_BASELINE;
/** The production sampler of the tracing-on rows: parent-based, a new trace sampled at this ratio (OTel's standard variables). */
const SAMPLE_RATIO = process.env.BENCH_SAMPLE_RATIO ?? '0.01';
/** Where each proxy's timeline probe writes what it saw (bench/serial-timeline-probe.mjs). */
const TIMELINE_OUT = join(mkdtempSync(join(tmpdir(), 'gateway-hop-timeline-')), 'timeline');

const role = process.argv[2];
if (role) await runRole(role, process.env.BACKEND_URL ?? '');
else await orchestrate();

// ------------------------------------------------------------------ orchestration

/** A contender's process: this file with a role, or the same file of a baseline checkout (`from`). */
function startRole(name: string, env: Record<string, string>, nodeFlags: string[] = [], from?: BaselineCheckout): Promise<{ port: number; child: ChildProcess }> {
  // The gateway: hop-gateway.mjs over the sources (tsx), or over a compiled tree (plain node) when
  // env names one. A baseline's gateway is its commit's own hop-gateway.mjs over its own sources;
  // a commit older than that file has the gateway as a role of its copy of this file.
  const hopGateway = from ? join(from.root, 'bench/hop-gateway.mjs') : HOP_GATEWAY;
  const gateway = name === 'gateway' && existsSync(hopGateway);
  // Every proxy carries the serial timeline's probe, inert until the timeline pass signals it.
  const flags = name === 'backend' ? nodeFlags : ['--import', TIMELINE_PROBE, ...nodeFlags];
  const args = !gateway
    ? [...flags, '--import', 'tsx', from ? join(from.root, 'bench/gateway-hop.ts') : SELF, name]
    : env.BENCH_GATEWAY_TREE
      ? [...flags, hopGateway]
      : [...flags, '--import', 'tsx', hopGateway];
  const child = spawn(process.execPath, args, {
    cwd: from?.root ?? ROOT,
    env: { ...process.env, PORT: '0', ADMIN_PORT: '0', LOG_LEVEL: 'info', BENCH_TIMELINE_OUT: TIMELINE_OUT, ...(gateway && { BENCH_GATEWAY_TREE: from?.root ?? ROOT }), ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return listeningPort(child, name).then((port) => ({ port, child }));
}


/** Asynchronous on purpose: this process keeps reading the gateway's access log while wrk runs. */
async function wrk(url: string, connections: number, seconds: number, headers: Record<string, string> = {}): Promise<WrkResult> {
  const headerArgs = Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
  const out = await outputOf('wrk', ['-t', '1', '-c', String(connections), '-d', `${seconds}s`, '--latency', ...headerArgs, url]);
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

/** bench/serial-latency.ts in a process of its own, like wrk (this one keeps reading the gateway's log). */
async function serialLatency(url: string, seconds: number, headers: Record<string, string> = {}): Promise<SerialLatency> {
  const headerArgs = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return JSON.parse(await outputOf(process.execPath, ['--import', 'tsx', SERIAL_LATENCY, url, String(seconds), ...headerArgs])) as SerialLatency;
}

/** What a load tool printed, once it exited; its stderr in the error should it fail. */
async function outputOf(command: string, args: string[]): Promise<string> {
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`${command} ${args[0] ?? ''} failed (${code}): ${err}`);
  return out;
}

/** CPU time (user + system) a process has used so far, ms (/proc, clock ticks of 10 ms). */
function cpuMs(pid: number | undefined): number {
  if (!pid) return 0;
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * Read and write system calls a process has made so far, all its threads (/proc/<pid>/io syscr +
 * syscw: socket and pipe reads and writes, writev included). Counted by the kernel at full speed,
 * so unlike CPU time it does not move with the machine's load.
 */
function ioCalls(pid: number | undefined): number {
  if (!pid) return 0;
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  const count = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(io)?.[1] ?? NaN);
  return count('syscr') + count('syscw');
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
      ...hopGatewayEnv(suffix, SAMPLE_RATIO),
      // V8 flags for the gateways only, to test a hypothesis (e.g. --max-semi-space-size=64).
      ...(process.env.BENCH_GATEWAY_NODE_OPTIONS && { NODE_OPTIONS: process.env.BENCH_GATEWAY_NODE_OPTIONS }),
      // Any gateway variable, as JSON, to take one layer out at a time (e.g. {"ACCESS_LOG":"false"}).
      ...(JSON.parse(process.env.BENCH_GATEWAY_ENV ?? '{}') as Record<string, string>),
    };
    const signedIn = { authorization: `Bearer ${token}` };
    const contenders: Contender[] = [];
    const wanted = (key: string) => !ONLY || ONLY.includes(key) || key === 'baseline' || key === 'variant';
    if (wanted('direct')) contenders.push({ name: 'direct to the backend', url: `${backendUrl}/hop`, headers: {}, stop: async () => {} });
    const add = async (key: string, name: string, roleName: string, env: Record<string, string>, path: string, headers: Record<string, string> = {}, from?: BaselineCheckout, nodeFlags: string[] = []) => {
      if (!wanted(key)) return;
      const started = await startRole(roleName, env, nodeFlags, from);
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
    await add('hpm', "express + http-proxy-middleware, README form (version 4: its proxy's own keep-alive agent)", 'hpm-default', { BACKEND_URL: backendUrl }, '/hop');
    await add('hpm-keepalive', 'express + http-proxy-middleware + keep-alive agent', 'hpm-keepalive', { BACKEND_URL: backendUrl }, '/hop');
    await add(
      'raw-headers',
      "raw node:http + undici Pool, sending the gateway's upstream headers (token, forwarding facts, request id, trace context)",
      'raw-proxy-headers',
      { BACKEND_URL: backendUrl },
      '/hop',
      signedIn,
    );
    await add('hpm-fresh', HPM_FRESH, 'hpm-fresh', { BACKEND_URL: backendUrl }, '/hop');
    // BENCH_GATEWAY_VARIANTS (a JSON list of variable sets), after the eight rows the goals read:
    // the tracing-on gateway with some of its variables changed, a row each, to weigh one layer
    // at a time in the same run, e.g.
    // [{"ACCESS_LOG":"false"},{"RATE_LIMIT_PER_MINUTE":"0","RATE_LIMIT_USER_PER_MINUTE":"0"}].
    // BENCH_ROUTE=public in a set calls the same hop on a route without the token check;
    // NODE_FLAGS, node's command-line flags (V8's included, which NODE_OPTIONS refuses), e.g.
    // [{"NODE_FLAGS":"--single-threaded-gc"}].
    for (const variant of JSON.parse(process.env.BENCH_GATEWAY_VARIANTS ?? '[]') as Record<string, string>[]) {
      const { BENCH_ROUTE: route, NODE_FLAGS: flags, ...env } = variant;
      const label = [
        ...Object.entries(env).map(([name, value]) => `${name}=${value === '' ? '(none)' : value}`),
        ...(route ? [`route ${route}`] : []),
        ...(flags ? [`node ${flags}`] : []),
      ].join(' ');
      const path = route === 'public' ? '/bench/hop-public' : '/bench/hop';
      const nodeFlags = flags?.split(/\s+/).filter(Boolean) ?? [];
      await add('variant', `our gateway, tracing on, ${label}`, 'gateway', { ...gatewayEnv, OTEL_EXPORTER_OTLP_ENDPOINT: OTLP, ...env }, path, route === 'public' ? {} : signedIn, undefined, nodeFlags);
    }
    if (wanted('container')) {
      // What production runs: tsc's output (no loader, no esbuild helpers) with the image's ENV lines.
      const tree = join(ROOT, '.cache', 'gateway-hop');
      compileTree(tree);
      const image = imageEnv();
      // The image's variables over the bench's (its NODE_OPTIONS over BENCH_GATEWAY_NODE_OPTIONS: the row says which ran).
      const compiledEnv = { ...gatewayEnv, ...image, OTEL_EXPORTER_OTLP_ENDPOINT: OTLP, BENCH_GATEWAY_TREE: join(tree, 'dist') };
      await add(
        'container',
        `**our gateway as the container runs it** (tsc's output on plain node, the image's \`NODE_OPTIONS=${image.NODE_OPTIONS ?? ''}\`), tracing on as above`,
        'gateway',
        compiledEnv,
        '/bench/hop',
        signedIn,
      );
      // BENCH_CONTAINER_VARIANTS (a JSON list of variable sets): the same with other values of the
      // image's variables, a row each, to weigh a flag in the same run (e.g. [{"NODE_OPTIONS":""}]).
      const variants = JSON.parse(process.env.BENCH_CONTAINER_VARIANTS ?? '[]') as Record<string, string>[];
      for (const variant of variants) {
        const label = Object.entries(variant).map(([name, value]) => `${name}=${value === '' ? '(none)' : value}`).join(' ');
        await add('container', `our gateway compiled, ${label}`, 'gateway', { ...compiledEnv, ...variant }, '/bench/hop', signedIn);
      }
    }
    // The same gateway at an earlier commit, tracing on, beside today's: a change's effect measured in one run.
    if (BASELINE) {
      const before = baselineCheckout(ROOT, BASELINE);
      const label = `our gateway at ${before.commit} (${BASELINE}), tracing on`;
      await add('baseline', label, 'gateway', { ...gatewayEnv, OTEL_EXPORTER_OTLP_ENDPOINT: OTLP }, '/bench/hop', signedIn, before);
    }

    // Warm-up: JIT, pools. Long enough for the gateway's larger code to reach its steady state:
    // after 2 s its CPU per request at 1 connection still fell by ~15 % over the rounds, which the
    // raw proxy's did not.
    for (const c of contenders) {
      await wrk(c.url, CONNECTIONS, WARMUP_SECONDS, c.headers);
      await wrk(c.url, 1, 2, c.headers);
    }
    const many: Record<string, WrkResult[]> = {};
    const one: Record<string, WrkResult[]> = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of contenders) {
        const cpuBefore = cpuMs(c.pid);
        const callsBefore = ioCalls(c.pid);
        const loaded = await wrk(c.url, CONNECTIONS, SECONDS, c.headers);
        // CPU per request: what a change saves, whatever else this shared machine was doing meanwhile.
        loaded.cpuUsPerRequest = c.pid ? ((cpuMs(c.pid) - cpuBefore) * 1000) / (loaded.rps * SECONDS) : undefined;
        loaded.ioCallsPerRequest = c.pid ? (ioCalls(c.pid) - callsBefore) / (loaded.rps * SECONDS) : undefined;
        (many[c.name] ??= []).push(loaded);
        const cpuBeforeOne = cpuMs(c.pid);
        const single = await wrk(c.url, 1, ONE_SECONDS, c.headers);
        // At 1 connection nothing is batched: the CPU of one request's whole path, serial.
        single.cpuUsPerRequest = c.pid ? ((cpuMs(c.pid) - cpuBeforeOne) * 1000) / (single.rps * ONE_SECONDS) : undefined;
        // Then the same loop once more, every request's own latency (no correction), in a process of its own.
        single.serial = await serialLatency(c.url, ONE_SECONDS, c.headers);
        (one[c.name] ??= []).push(single);
        const { cpuUsPerRequest: cpu, ioCallsPerRequest: calls } = many[c.name]!.at(-1)!;
        console.log(
          `round ${round + 1} ${c.name}: ${fmt(many[c.name]!.at(-1)!.rps, 0)} req/s${cpu ? `, ${fmt(cpu, 0)} µs CPU and ${fmt(calls ?? 0, 2)} reads + writes per request` : ''}, p50 at 1 connection ${fmt(one[c.name]!.at(-1)!.p50Us, 0)} µs${one[c.name]!.at(-1)!.cpuUsPerRequest ? ` (${fmt(one[c.name]!.at(-1)!.cpuUsPerRequest!, 0)} µs CPU per request)` : ''}`,
        );
      }
    }
    for (const c of contenders) {
      const rs = many[c.name]!;
      const bad = rs.reduce((n, r) => n + r.non2xx + r.errors, 0);
      console.log(
        `${c.name}: median ${fmt(median(rs.map((r) => r.rps)), 0)} req/s (${rs.map((r) => fmt(r.rps, 0)).join(' / ')}), ` +
          `1 connection p50 ${fmt(median(one[c.name]!.map((r) => r.p50Us)), 0)} µs p99 ${fmt(median(one[c.name]!.map((r) => r.p99Us)), 0)} µs ` +
            `(per request ${fmt(median(one[c.name]!.map((r) => r.serial?.p99Us ?? 0)), 0)} µs, ${fmt(100 * median(one[c.name]!.map((r) => r.serial?.slowShare ?? 0)), 1)} % of the time in requests > 1 ms), ` +
          `CPU ${c.pid ? fmt(median(rs.map((r) => r.cpuUsPerRequest ?? 0)), 0) : '—'} µs per request, non-2xx+errors ${bad}`,
      );
    }
    const timelines = await serialTimelines(contenders);
    for (const c of contenders) await c.stop();

    const profile = PROFILE && (!ONLY || ONLY.includes('profile')) ? await profileGateway(gatewayEnv, signedIn) : undefined;
    if (profile) console.log(`${profile.table}\n\n${profile.top}`);
    if (ONLY) return;
    const table = resultTable(contenders.map((c) => c.name), many, one);
    const timeline = timelineTable(contenders.map((c) => c.name), timelines);
    console.log(`${table}\n\n${timeline}`);
    if (profile) writeSection('gateway-hop', sectionText(table, timeline, profile, { connections: CONNECTIONS, seconds: SECONDS, oneSeconds: ONE_SECONDS, rounds: ROUNDS, sampleRatio: SAMPLE_RATIO }));
  } finally {
    await deregisterAll(registered);
    await Promise.all(children.map(stopChild));
  }
}

/**
 * The serial timeline pass, after the rounds: each proxy's probe records over one more
 * 1-connection run per round (interleaved), so the rounds above ran without it.
 */
async function serialTimelines(contenders: Contender[]): Promise<Record<string, Array<SerialTimeline & { p50Us: number }>>> {
  const seconds = Math.max(2, Math.round(SECONDS / 2));
  const timelines: Record<string, Array<SerialTimeline & { p50Us: number }>> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of contenders) {
      if (!c.pid) continue;
      let p50Us = 0;
      const seen = await timedSerially(c.pid, TIMELINE_OUT, async () => (p50Us = (await wrk(c.url, 1, seconds, c.headers)).p50Us));
      (timelines[c.name] ??= []).push({ ...seen, p50Us });
      console.log(`timeline round ${round + 1} ${c.name}: ${JSON.stringify(seen)}, p50 ${fmt(p50Us, 0)} µs`);
    }
  }
  return timelines;
}

// ------------------------------------------------------------------ profile

/** One more gateway (tracing on) under `node --cpu-prof` and the same wrk load; self time per layer. */
async function profileGateway(env: Record<string, string>, headers: Record<string, string>): Promise<ProfileFindings> {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-hop-prof-'));
  const spawnedAt = performance.now();
  // BENCH_PROFILE_TRACING=off profiles the gateway with tracing off (a profile of each, side by side, shows what tracing costs).
  const endpoint = process.env.BENCH_PROFILE_TRACING === 'off' ? '' : OTLP;
  const started = await startRole('gateway', { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
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
    console.log(`profile: ${join(dir, file)} (open it in Chrome DevTools → Performance, or speedscope); load ${fmt(loadFrom, 0)}-${fmt(loadTo, 0)} ms after the spawn, ${fmt(result.rps, 0)} req/s`);
    return { ...analyse(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile, loadFrom + 200, loadTo - 200), rps: result.rps };
  } finally {
    await stopChild(started.child);
  }
}

