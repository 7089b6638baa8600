/**
 * Gateway hop in instructions: how many CPU instructions one proxied request costs the proxy's
 * process (user space, every thread), counted by valgrind's callgrind. Unlike req/s and CPU time,
 * an instruction count does not move with what else this shared machine is doing, though it
 * moves with what V8 decides by the clock (collections, re-optimisation: see the report's text).
 * It does not count the kernel (socket writes), nor how fast each instruction runs. Beside it,
 * each row's bytes allocated per request, from a run without valgrind (allocatedPerRequest).
 *
 * Each row: the proxy starts under callgrind with instrumentation off, serves BENCH_WARM requests
 * (8 keep-alive connections) so that V8 has optimised what it will, then instrumentation is
 * switched on for BENCH_REQUESTS more and the count dumped. The backend and Consul are those of
 * bench/gateway-hop.ts (its `backend` role, registered the same way); the gateway is tsc's output
 * on plain node (bench/hop-gateway.mjs over bench/compiled-tree.ts), with the same route,
 * token and settings as the gateway-hop bench. Run: npm run bench -- hop-instructions (needs valgrind).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileTree, imageEnv } from './compiled-tree.js';
import { deregisterAll, hopGatewayEnv, registerBackend } from './hop-roles.js';
import { listeningPort } from './listening.js';
import { fmt, machineLine, median, writeSection } from './report.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const WARM = Number(process.env.BENCH_WARM ?? 30_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 3_000);
const CONNECTIONS = 8;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HOP = fileURLToPath(new URL('./gateway-hop.ts', import.meta.url));
const HOP_GATEWAY = fileURLToPath(new URL('./hop-gateway.mjs', import.meta.url));
const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });

interface Row {
  name: string;
  /** The proxy's command after `valgrind ... node`, its environment, and the path it proxies. */
  args: string[];
  env: Record<string, string>;
  path: string;
  signedIn: boolean;
}

if (spawnSync('valgrind', ['--version']).error) throw new Error('valgrind is not installed (apt-get install -y valgrind)');
const suffix = `-instr${process.pid}`;
const { signingKey, accessToken, jwksOf } = await import('../gateway/test/tokens.js');
const key = await signingKey('bench');
const token = await accessToken(key, { expiresIn: 3_600 });
const backend = await start(process.execPath, ['--import', 'tsx', HOP, 'backend'], { BENCH_JWKS: jwksOf(key) });
const registered = [await registerBackend('hopbackend', suffix, backend.port), await registerBackend('auth', suffix, backend.port)];
const tree = join(ROOT, '.cache', 'hop-instructions');
compileTree(tree);
const image = imageEnv();
const gatewayEnv = {
  ...hopGatewayEnv(suffix),
  BENCH_GATEWAY_TREE: join(tree, 'dist'),
  NODE_OPTIONS: '',
  OTEL_EXPORTER_OTLP_ENDPOINT: '',
};
const rows: Row[] = [
  { name: 'raw node:http + undici Pool (the Node limit)', args: ['--import', 'tsx', HOP, 'raw-proxy'], env: { BACKEND_URL: `http://127.0.0.1:${backend.port}` }, path: '/hop', signedIn: false },
  { name: 'our gateway, tracing off', args: [HOP_GATEWAY], env: gatewayEnv, path: '/bench/hop', signedIn: true },
  { name: 'our gateway, tracing on (parent-based, 1 % of new traces sampled, OTLP → Jaeger)', args: [HOP_GATEWAY], env: { ...gatewayEnv, OTEL_EXPORTER_OTLP_ENDPOINT: process.env.BENCH_OTLP ?? 'http://127.0.0.1:4318' }, path: '/bench/hop', signedIn: true },
  {
    name: `our gateway as the container runs it (the image's environment, \`NODE_OPTIONS=${image.NODE_OPTIONS ?? ''}\`), tracing on`,
    args: [HOP_GATEWAY],
    env: { ...gatewayEnv, ...image, OTEL_EXPORTER_OTLP_ENDPOINT: process.env.BENCH_OTLP ?? 'http://127.0.0.1:4318' },
    path: '/bench/hop',
    signedIn: true,
  },
];

// BENCH_ROWS=1,2 counts only those rows (0 is the raw proxy) and prints them without writing
// BENCHMARKS.md: a quick before/after of one change.
const only = process.env.BENCH_ROWS?.split(',').map(Number);
// BENCH_NODE_FLAGS=--perf-basic-prof names the JIT's code in /tmp/perf-<pid>.map, to read the count by JS function.
const nodeFlags = process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
/**
 * Node's flags under valgrind, every row. V8's memory reducer starts full collections when the
 * heap's allocation rate per second of the clock falls low, taking the process for idle. Under
 * valgrind a loaded proxy allocates ~25× slower by the clock, so the reducer collected again and
 * again inside the counted window, the more the slower the machine: on a slow day the same gateway
 * counted 334 K and 436 K per request with it (garbage collection ~55 K, and the compilers
 * re-optimising what the collections flushed), 251 K and 262 K without (collection ~2 K), as on a
 * fast day with it. A real run under this load never looks idle, so the count leaves it out.
 */
const VALGRIND_NODE_FLAGS = ['--no-memory-reducer'];
/** The layer of the collector's own functions (layerOf). */
const GC_LAYER = 'garbage collection';
const counts = new Map<Row, number[]>(rows.map((row) => [row, []]));
const layers = new Map<Row, Map<string, number>>();
const allocations = new Map<Row, number[]>(rows.map((row) => [row, []]));
/** Each round's garbage-collection instructions per request, by row: whether a full collection fell in the window. */
const collections = new Map<Row, number[]>(rows.map((row) => [row, []]));
/** Full collections (mark-compact) in each round's run without valgrind, by row. */
const fullCollections = new Map<Row, number[]>(rows.map((row) => [row, []]));
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const row of rows.filter((_, index) => !only || only.includes(index))) {
      const { allocated, full } = await allocatedPerRequest(row);
      allocations.get(row)!.push(allocated);
      fullCollections.get(row)!.push(full);
      console.log(`${row.name}: ${fmt(allocated / 1024, 1)} KB allocated per request`);
      const { perRequest, byLayer } = await countRow(row, round);
      counts.get(row)!.push(perRequest);
      layers.set(row, byLayer);
      collections.get(row)!.push(byLayer.get(GC_LAYER) ?? 0);
      console.log(`${row.name}: ${Math.round(perRequest)} instructions per request`);
      if (only) for (const [layer, count] of [...byLayer].sort((a, b) => b[1] - a[1])) console.log(`  ${fmt(count / 1000)} K  ${layer}`);
    }
  }
} finally {
  backend.child.kill('SIGTERM');
  await deregisterAll(registered);
}
if (!only) report();

/** One row once: its process under callgrind, warmed, then counted over REQUESTS requests. */
async function countRow(row: Row, round: number): Promise<{ perRequest: number; byLayer: Map<string, number> }> {
  const out = join(tree, `callgrind-${round}-${rows.indexOf(row)}.out`);
  rmSync(out, { force: true });
  const proxy = await start('valgrind', ['--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${out}`, '--smc-check=all-non-file', process.execPath, ...VALGRIND_NODE_FLAGS, ...nodeFlags, ...row.args], { ...row.env, BENCH_HOP_UNDER_VALGRIND: '1' });
  try {
    const url = `http://127.0.0.1:${proxy.port}${row.path}`;
    const headers: Record<string, string> = row.signedIn ? { authorization: `Bearer ${token}` } : {};
    await waitAnswering(url, headers);
    await load(url, headers, WARM);
    execFileSync('callgrind_control', ['--instr=on', String(proxy.child.pid)], { stdio: 'ignore' });
    await load(url, headers, REQUESTS);
    execFileSync('callgrind_control', ['--dump', String(proxy.child.pid)], { stdio: 'ignore' });
  } finally {
    proxy.child.kill('SIGKILL');
  }
  // The dump names its file after the pid's part number.
  const file = `${out}.1`;
  if (only) console.log(`  ${file} (pid ${proxy.child.pid})`);
  const total = Number(/^(?:summary|totals): (\d+)/m.exec(readFileSync(file, 'utf8'))?.[1]);
  if (!total) throw new Error(`no instruction count in ${file}`);
  return { perRequest: total / REQUESTS, byLayer: layersOf(file) };
}

/**
 * Bytes the row's process allocates per request, without valgrind: V8's own account of its heap
 * (\`--trace-gc\`: heap used before each collection, after the previous one) over WARM requests
 * once WARM requests warmed it. Like an instruction count it hardly moves with the machine's load
 * (within ~2 % here), and it is what the garbage collection in the counts comes from: a count's
 * GC share depends on whether a full collection fell inside its few thousand requests.
 */
async function allocatedPerRequest(row: Row): Promise<{ allocated: number; full: number }> {
  const proxy = await start(process.execPath, ['--trace-gc', ...row.args], row.env);
  try {
    const url = `http://127.0.0.1:${proxy.port}${row.path}`;
    const headers: Record<string, string> = row.signedIn ? { authorization: `Bearer ${token}` } : {};
    await waitAnswering(url, headers);
    await load(url, headers, WARM);
    let output = '';
    const collect = (chunk: Buffer) => void (output += chunk.toString());
    proxy.child.stdout!.on('data', collect);
    await load(url, headers, WARM);
    // The lines of the last collections may still be in the pipe.
    await new Promise((resolve) => setTimeout(resolve, 300));
    proxy.child.stdout!.off('data', collect);
    // What was allocated between collections: heap used before one, less what the previous left.
    let megabytes = 0;
    let collections = 0;
    let full = 0;
    let lastAfter: number | undefined;
    for (const [, kind, before, after] of output.matchAll(/(Scavenge|Mark-Compact|Minor Mark-Sweep)[^\d]*([\d.]+) \([\d.]+\) -> ([\d.]+)/g)) {
      collections += 1;
      if (kind === 'Mark-Compact') full += 1;
      if (lastAfter !== undefined) megabytes += Number(before) - lastAfter;
      lastAfter = Number(after);
    }
    if (collections < 10) throw new Error(`${row.name}: ${collections} collections over ${WARM} requests, too few to tell`);
    // That spans the requests from the first collection to the last: (n - 1) / n of them.
    return { allocated: (megabytes * 1024 * 1024 * collections) / (collections - 1) / WARM, full };
  } finally {
    proxy.child.kill('SIGKILL');
  }
}

/** Self instructions per request by where they run, from callgrind_annotate's per-function list. */
function layersOf(file: string): Map<string, number> {
  const text = execFileSync('callgrind_annotate', ['--inclusive=no', '--threshold=100', file], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const byLayer = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^\s*([\d,]+) \([\s\d.]+%\)\s+(.*)$/.exec(line);
    if (!match || line.includes('PROGRAM TOTALS')) continue;
    const layer = layerOf(match[2]!);
    byLayer.set(layer, (byLayer.get(layer) ?? 0) + Number(match[1]!.replaceAll(',', '')) / REQUESTS);
  }
  return byLayer;
}

/** The layer a function of the node binary (or of V8's generated code) belongs to, by its name. */
function layerOf(name: string): string {
  const rules: Array<[RegExp, string]> = [
    [/Scaveng|Marking|Sweep|MarkCompact|Heap::|heap::|Evacuat|GCTracer|RememberedSet|SlotSet|SizeFromMap|IteratePointers|BodyDescriptor|Worklist|MinorMS|Pretenuring/, GC_LAYER],
    [/compiler::|[Mm]aglev|[Tt]urboshaft|Compil|Baseline|Parser|interpreter::|BytecodeGen|Deoptim/, 'V8 compilers'],
    [/Builtins_\w*IC/, 'V8 property-access stubs (inline caches)'],
    [/Builtins_/, 'V8 builtins (strings, regexps, promises, calls...)'],
    [/Runtime_|LookupIterator|JSObject::|Map::|StringTable|String::|Object::|FeedbackNexus|IC::|Factory::|Dictionary|JSReceiver|HashTable/, 'V8 runtime (slow paths in C++)'],
    [/\?\?\?:0x|\[\?\?\?\]/, 'JavaScript, optimised or baseline code (ours, node\'s, undici\'s)'],
    [/libc|memcpy|memmove|malloc|_int_|memset|strlen|pthread/, 'libc'],
    [/llhttp|uv_|uv__|node::|v8::/, 'node and libuv in C++ (HTTP parser, streams, event loop)'],
  ];
  for (const [pattern, layer] of rules) if (pattern.test(name)) return layer;
  return 'other';
}

function report(): void {
  const raw = median(counts.get(rows[0]!)!);
  const lines = rows.map((row) => {
    const values = counts.get(row)!;
    const mid = median(values);
    // Each round's own: a full collection inside a window (or not) moves a row by 50-90 K, which
    // is where it fell, not what the row costs.
    const gc = collections.get(row)!.map((count) => fmt(count / 1000)).join(' / ');
    return `| ${row.name} | ${fmt(Math.min(...values) / 1000)} K | ${fmt(mid / 1000)} K | ${fmt(mid / raw, 2)}× | ${gc} K | ${fmt(median(allocations.get(row)!) / 1024, 1)} KB | ${fullCollections.get(row)!.join(' / ')} |`;
  });
  const shown = [rows[0]!, rows[1]!];
  const names = [...new Set(shown.flatMap((row) => [...layers.get(row)!.keys()]))].sort((a, b) => (layers.get(rows[1]!)!.get(b) ?? 0) - (layers.get(rows[1]!)!.get(a) ?? 0));
  const layerLines = names.map((name) => `| ${name} | ${shown.map((row) => `${fmt((layers.get(row)!.get(name) ?? 0) / 1000)} K`).join(' | ')} |`);
  const markdown = `## Gateway hop in instructions (callgrind)

Instructions one proxied request costs the proxy's process (user space, all threads; not the
kernel's socket work), counted by valgrind's callgrind after ${WARM} warm-up requests, over
${REQUESTS} requests on ${CONNECTIONS} keep-alive connections; ${ROUNDS} rounds, min and median. Same
backend, route, token and settings as "Gateway hop" (rate limits in Redis, access log, metrics,
token check on an authenticated route); the gateway is tsc's output on plain node, run under
valgrind with \`--no-memory-reducer\` (every row). A count does not move with the machine's load,
but it does move with what V8 decides by the clock. Under valgrind the proxy runs ~25× slower, so
V8's memory reducer, which starts full collections when the allocation rate per second is low,
took the loaded proxy for idle: on a slow day (2026-11-29) the same gateway counted 334 K and 436 K
per request with it, ~55 K of them garbage collection and more the compilers re-optimising what the
collections flushed, and 251 K and 262 K without it (collection ~2 K), where a fast day had counted
~254 K with it. A real run under load never looks idle to it, so the count leaves it out. Other
work that comes with time rather than requests (Consul's health checks, the watcher's queries,
the span export) still weighs ~25× more per request than in a real run. Full collections come
every few tens of thousands of requests (the runs without valgrind made ${[...fullCollections.values()].flat().reduce((a, b) => a + b, 0)} over the same rows'
${WARM}-request windows, counted by row in the table; the tracing-on gateway one at ~45 000-50 000 of 60 000 requests), so whether
one falls inside a row's ${REQUESTS} counted requests moves its count by 50-90 K: the collection's own
concurrent marking and sweeping (50-60 K per request) and the re-optimising after it. Under valgrind
the tracing-on row (V8's default young generation) had one in 7 of its 8 windows on 2026-11-29
(sixth session; 364-392 K, 51-61 K of collection where the layers were read), where its runs
without valgrind make 1-2 per 30000 requests (a 3000-request window would hold one ~10-15 % of the
time): under valgrind that row collects in full far more often, and its count overstates it. Without
one it counted 293-323 K (one round, and the same row with \`--max-semi-space-size=16\` or
\`--single-threaded-gc\`). The container row (young generation capped at 16 MiB) had none in any of
its 7 windows: 294-323 K. Earlier sessions read the tracing-on rows' swings (301 K, then 319 K) as
time-driven work; the full collections are the larger part. Hence the two collection columns:
compare rows by their windows without a full collection (a round with ~50 K of collection had one).
The allocation column is the steadier figure for memory: bytes allocated per request as V8's \`--trace-gc\` accounts them,
over ${WARM} requests after ${WARM} warm-up ones, in a run without valgrind.

| proxy | min instructions per request | median | vs raw proxy | of it garbage collection, each round | allocated per request (median, without valgrind) | full collections in ${WARM} requests (without valgrind), each round |
| --- | --- | --- | --- | --- | --- | --- |
${lines.join('\n')}

Where they go (self instructions per request, last round, by the function's kind):

| layer | ${shown.map((row) => row.name.replace(/ \(.*\)$/, '')).join(' | ')} |
| --- | --- | --- |
${layerLines.join('\n')}

${machineLine()} Command: \`npm run bench -- hop-instructions\` (BENCH_ROUNDS, BENCH_WARM, BENCH_REQUESTS; needs valgrind).`;
  console.log(markdown);
  writeSection('hop-instructions', markdown);
}

function start(command: string, args: string[], env: Record<string, string>): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, PORT: '0', ADMIN_PORT: '0', LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let errors = '';
  child.stderr!.on('data', (chunk: Buffer) => (errors = (errors + chunk.toString()).slice(-4000)));
  return listeningPort(child, args.at(-1)!, () => errors).then((port) => ({ port, child }));
}

/** A GET's status, and for any other than 200 the start of its body (the gateway's error code). */
function get(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const call = request(url, { agent, headers }, (answer) => {
      let body = '';
      if (answer.statusCode === 200) answer.resume();
      else answer.on('data', (chunk: Buffer) => void (body = (body + chunk.toString()).slice(0, 200)));
      answer.once('end', () => resolve({ status: answer.statusCode!, body }));
    });
    call.once('error', reject);
    call.end();
  });
}

/** `count` GETs over CONNECTIONS connections; every one must answer 200. */
async function load(url: string, headers: Record<string, string>, count: number): Promise<void> {
  let next = 0;
  const failed: string[] = [];
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (next++ < count) {
      const { status, body } = await get(url, headers);
      if (status !== 200) failed.push(`${status} ${body}`);
    }
  }));
  if (failed.length) throw new Error(`${failed.length} of ${count} requests to ${url} did not answer 200:\n${failed.join('\n')}`);
}

async function waitAnswering(url: string, headers: Record<string, string>): Promise<void> {
  // Under valgrind start-up takes tens of seconds: poll until it answers 200.
  let last: unknown;
  for (let i = 0; i < 1_200; i++) {
    last = await get(url, headers).then(({ status }) => status, (error: Error) => error.message);
    if (last === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} never answered 200 (last: ${String(last)})`);
}
