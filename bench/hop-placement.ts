/**
 * Gateway hop by CPU placement: where the added latency at 1 connection comes from. The same
 * backend, raw proxy and gateway as bench/gateway-hop.ts (its roles, the gateway over the sources
 * with tracing on at its 1 % sampler and an authenticated route), called by wrk at 1 connection,
 * with each process held to a core (taskset, every thread) in four placements, interleaved round
 * by round. A request at 1 connection crosses from process to process four times through a proxy
 * (client → proxy → backend → proxy → client) and twice direct: each crossing wakes a process,
 * and waking one on the other core costs more than on the core that woke it. The placements tell
 * what the wake-ups cost apart from the proxies' own work, and "all on one core" leaves only the
 * work (no wake-up crosses cores, everything runs in turn). Run: npm run bench -- hop-placement.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { deregisterAll, hopGatewayEnv, registerBackend, stopChild, waitAnswering } from './hop-roles.js';
import { listeningPort } from './listening.js';
import { fmt, machineLine, median, writeSection } from './report.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OTLP = process.env.BENCH_OTLP ?? 'http://127.0.0.1:4318';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);

type Role = 'client' | 'proxy' | 'backend';
interface Placement {
  name: string;
  /** The cores each role may run on; undefined: wherever the kernel puts it. */
  cores?: Record<Role, string>;
}
const PLACEMENTS: Placement[] = [
  { name: 'as the kernel schedules them (the gateway-hop bench)' },
  { name: 'proxy and backend on one core, client on the other', cores: { proxy: '0', backend: '0', client: '1' } },
  { name: 'client and backend on one core, proxy on the other', cores: { proxy: '0', backend: '1', client: '1' } },
  { name: 'all on one core: no wake-up crosses cores', cores: { proxy: '0', backend: '0', client: '0' } },
];

if (spawnSync('wrk', ['--version']).error) throw new Error('wrk is not installed (apt-get install -y wrk)');
if (spawnSync('taskset', ['-V']).error) throw new Error('taskset (util-linux) is not installed');
const CORES = Number(execFileSync('nproc', { encoding: 'utf8' }));
if (CORES < 2) throw new Error('hop-placement needs two cores at least (it places processes on cores 0 and 1)');
const ALL_CORES = `0-${CORES - 1}`;
const suffix = `-place${process.pid}`;
const children: ChildProcess[] = [];
const registered: string[] = [];

function start(args: string[], env: Record<string, string>): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, PORT: '0', ADMIN_PORT: '0', LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return listeningPort(child, args.at(-1)!).then((port) => ({ child, port }));
}

/** Holds every thread of a process (and the threads it starts later) to `cores`. */
const pin = (pid: number, cores: string) => execFileSync('taskset', ['-a', '-p', '-c', cores, String(pid)], { stdio: 'ignore' });

/** wrk's p50 at 1 connection, µs; wrk itself held to `cores`. */
function p50At1Connection(url: string, headers: Record<string, string>, cores: string): number {
  const headerArgs = Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
  const out = execFileSync('taskset', ['-c', cores, 'wrk', '-t1', '-c1', `-d${SECONDS}s`, '--latency', ...headerArgs, url], { encoding: 'utf8' });
  const m = /^\s+50%\s+([\d.]+)(us|ms)\b/m.exec(out);
  if (!m) throw new Error(`wrk output without a p50: ${out}`);
  if (/Non-2xx/.test(out)) throw new Error(`${url} answered errors: ${out}`);
  return Number(m[1]) * (m[2] === 'ms' ? 1000 : 1);
}

try {
  const { signingKey, accessToken, jwksOf } = await import('../gateway/test/tokens.js');
  const key = await signingKey('bench');
  const token = await accessToken(key, { expiresIn: 3_600 });
  const backend = await start(['--import', 'tsx', 'bench/gateway-hop.ts', 'backend'], { BENCH_JWKS: jwksOf(key) });
  registered.push(await registerBackend('hopbackend', suffix, backend.port), await registerBackend('auth', suffix, backend.port));
  const raw = await start(['--import', 'tsx', 'bench/gateway-hop.ts', 'raw-proxy'], { BACKEND_URL: `http://127.0.0.1:${backend.port}` });
  const rawHeaders = await start(['--import', 'tsx', 'bench/gateway-hop.ts', 'raw-proxy-headers'], { BACKEND_URL: `http://127.0.0.1:${backend.port}` });
  const gateway = await start(['--import', 'tsx', 'bench/hop-gateway.mjs'], { ...hopGatewayEnv(suffix), BENCH_GATEWAY_TREE: ROOT, OTEL_EXPORTER_OTLP_ENDPOINT: OTLP });
  const signedIn = { authorization: `Bearer ${token}` };
  // BENCH_GATEWAY_VARIANTS (a JSON list of variable sets, as gateway-hop's): a gateway of its own
  // per set, beside one more with the gateway's settings unchanged, whose distance from the first
  // is what one process to the next moves by.
  const variantSets = JSON.parse(process.env.BENCH_GATEWAY_VARIANTS ?? '[]') as Record<string, string>[];
  const variants = [];
  for (const env of variantSets.length ? [{}, ...variantSets] : []) {
    const label = Object.keys(env).length ? Object.entries(env).map(([name, value]) => `${name}=${value === '' ? '(none)' : value}`).join(' ') : 'the same settings, another process';
    const started = await start(['--import', 'tsx', 'bench/hop-gateway.mjs'], { ...hopGatewayEnv(suffix), BENCH_GATEWAY_TREE: ROOT, OTEL_EXPORTER_OTLP_ENDPOINT: OTLP, ...env });
    variants.push({ name: `gateway, ${label}`, url: `http://127.0.0.1:${started.port}/bench/hop`, headers: signedIn, pid: started.child.pid });
  }
  const contenders = [
    { name: 'direct to the backend', url: `http://127.0.0.1:${backend.port}/hop`, headers: {}, pid: undefined },
    { name: 'raw node:http + undici Pool', url: `http://127.0.0.1:${raw.port}/hop`, headers: {}, pid: raw.child.pid },
    { name: 'our gateway, tracing on (1 % sampled)', url: `http://127.0.0.1:${gateway.port}/bench/hop`, headers: signedIn, pid: gateway.child.pid },
    { name: "raw proxy sending the gateway's upstream headers", url: `http://127.0.0.1:${rawHeaders.port}/hop`, headers: signedIn, pid: rawHeaders.child.pid },
    ...variants,
  ];
  for (const c of contenders.slice(2)) await waitAnswering(c.url, c.headers);
  // Warm-up as gateway-hop's: 6 s at 32 connections, then at 1 connection, each.
  for (const c of contenders) {
    const headerArgs = Object.entries(c.headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
    execFileSync('wrk', ['-t1', '-c32', '-d6s', ...headerArgs, c.url], { stdio: 'ignore' });
    p50At1Connection(c.url, c.headers, ALL_CORES);
  }
  const p50s = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const placement of PLACEMENTS.map((_, i) => PLACEMENTS[(i + round) % PLACEMENTS.length]!)) {
      const cores = placement.cores ?? { proxy: ALL_CORES, backend: ALL_CORES, client: ALL_CORES };
      pin(backend.child.pid!, cores.backend);
      for (const c of contenders) if (c.pid) pin(c.pid, cores.proxy);
      const line: string[] = [];
      for (const c of contenders) {
        const p50 = p50At1Connection(c.url, c.headers, cores.client);
        const key = `${placement.name}|${c.name}`;
        p50s.set(key, [...(p50s.get(key) ?? []), p50]);
        line.push(`${c.name} ${fmt(p50, 0)} µs`);
      }
      console.log(`round ${round + 1} ${placement.name}: ${line.join(', ')}`);
    }
  }
  report(contenders.map((c) => c.name), p50s);
} finally {
  await Promise.all(children.map(stopChild));
  await deregisterAll(registered);
}

function report(names: string[], p50s: Map<string, number[]>): void {
  const med = (placement: Placement, name: string) => median(p50s.get(`${placement.name}|${name}`)!);
  const low = (placement: Placement, name: string) => Math.min(...p50s.get(`${placement.name}|${name}`)!);
  const [direct, raw, gateway, rawHeaders, ...variants] = names as [string, string, string, string, ...string[]];
  const rows = PLACEMENTS.map((p) => {
    const cell = (name: string) => `${fmt(med(p, name), 0)} (${fmt(low(p, name), 0)})`;
    const added = (name: string) => `+${fmt(med(p, name) - med(p, direct), 0)}`;
    return `| ${p.name} | ${cell(direct)} | ${cell(raw)} | ${cell(rawHeaders)} | ${cell(gateway)} | ${added(raw)} | ${added(gateway)} | +${fmt(med(p, gateway) - med(p, raw), 0)} |`;
  });
  const variantTable = variants.length
    ? `\n\nGateway variants (BENCH_GATEWAY_VARIANTS), each its own process, p50 median (min) and against the gateway above:

| placement | ${variants.join(' | ')} |
| --- | ${variants.map(() => '---').join(' | ')} |
${PLACEMENTS.map((p) => `| ${p.name} | ${variants.map((v) => `${fmt(med(p, v), 0)} (${fmt(low(p, v), 0)}), ${signed(med(p, v) - med(p, gateway))}`).join(' | ')} |`).join('\n')}`
    : '';
  const free = PLACEMENTS[0]!;
  const oneCore = PLACEMENTS[3]!;
  writeSection(
    'hop-placement',
    `## Gateway hop by CPU placement: what the added p50 is made of

The gateway-hop bench's backend, raw proxy and gateway (tracing on, 1 % of new traces sampled, the
authenticated route), wrk at 1 connection for ${SECONDS} s, each process held to a core with \`taskset\`
(every thread), ${ROUNDS} rounds with the placements interleaved; p50 in µs, median (min). "Added" is
against the direct call in the same placement. Through a proxy a request wakes a process four times
(client → proxy → backend → proxy → client), direct twice, and waking a process that sleeps on the
other core takes longer than waking one on the waker's own core (the direct call's p50 with client
and backend on different cores ${fmt(med(PLACEMENTS[1]!, direct), 0)} µs, on one core ${fmt(med(PLACEMENTS[3]!, direct), 0)} µs).

| placement | direct p50 | raw proxy p50 | raw proxy with the gateway's upstream headers p50 | gateway p50 | raw proxy added | gateway added | gateway − raw proxy |
| --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}${variantTable}

- As scheduled, the raw proxy adds +${fmt(med(free, raw) - med(free, direct), 0)} µs and the gateway +${fmt(med(free, gateway) - med(free, direct), 0)} µs. On one core, with
  no wake-up crossing cores, everything runs in turn and a p50 is the work of the three processes
  plus their switches: the raw proxy adds +${fmt(med(oneCore, raw) - med(oneCore, direct), 0)} µs, the gateway +${fmt(med(oneCore, gateway) - med(oneCore, direct), 0)} µs.
- The gateway's serial work over the raw proxy's is the last column on one core (${fmt(med(oneCore, gateway) - med(oneCore, raw), 0)} µs), the
  backend's and the client's included: the raw proxy sending the gateway's upstream headers (its
  token, forwarding facts, request id, trace context) takes ${fmt(med(oneCore, rawHeaders) - med(oneCore, raw), 0)} µs of it there. As scheduled the gap
  is ${fmt(med(free, gateway) - med(free, raw), 0)} µs: what is above the work is where the wake-ups land.

${machineLine()} Command: \`npm run bench -- hop-placement\` (BENCH_ROUNDS, BENCH_SECONDS, BENCH_GATEWAY_VARIANTS).`,
  );
}

/** A difference with its sign: +3, −2. */
function signed(n: number): string {
  return `${n >= 0 ? '+' : '−'}${fmt(Math.abs(n), 0)}`;
}
