/**
 * The gateway-hop benchmark's report: the results table with its goal verdicts, the profile's
 * self time per layer, and the BENCHMARKS.md section's text (bench/gateway-hop.ts runs the load).
 */
import { fmt, machineLine, median } from './report.js';

export interface WrkResult {
  rps: number;
  /** The proxy process's CPU time (user + system) per request served, µs. */
  cpuUsPerRequest?: number;
  /** The proxy process's read and write system calls per request served (/proc/<pid>/io). */
  ioCallsPerRequest?: number;
  p50Us: number;
  p99Us: number;
  non2xx: number;
  errors: number;
}

/** How the run was made, for the section's prose. */
export interface RunShape {
  connections: number;
  seconds: number;
  rounds: number;
  sampleRatio: string;
}

export function resultTable(names: string[], many: Record<string, WrkResult[]>, one: Record<string, WrkResult[]>): string {
  const med = (rs: WrkResult[], key: Exclude<keyof WrkResult, 'cpuUsPerRequest' | 'ioCallsPerRequest'>) => median(rs.map((r) => r[key]));
  const raw = med(many[names[1]!]!, 'rps');
  const directP50 = med(one[names[0]!]!, 'p50Us');
  const directP99 = med(one[names[0]!]!, 'p99Us');
  const rows = names.map((name, i) => {
    const rs = many[name]!;
    const bad = rs.reduce((n, r) => n + r.non2xx + r.errors, 0) + one[name]!.reduce((n, r) => n + r.non2xx + r.errors, 0);
    const p50 = med(one[name]!, 'p50Us');
    const p99 = med(one[name]!, 'p99Us');
    const added = i === 0 ? `— (${fmt(p50, 0)} µs)` : `${signed(p50 - directP50)} µs`;
    const addedP99 = i === 0 ? `— (${fmt(p99, 0)} µs)` : `${signed(p99 - directP99)} µs`;
    const cpu = i === 0 ? '—' : `${fmt(median(rs.map((r) => r.cpuUsPerRequest ?? 0)), 0)} µs`;
    const calls = i === 0 ? '—' : fmt(median(rs.map((r) => r.ioCallsPerRequest ?? 0)), 2);
    return `| ${name} | ${fmt(Math.min(...rs.map((r) => r.rps)), 0)} | ${fmt(med(rs, 'rps'), 0)} | ${i === 0 ? '—' : `${fmt(med(rs, 'rps') / raw, 2)}×`} | ${cpu} | ${calls} | ${added} | ${addedP99} | ${bad} |`;
  });
  const gw = (i: number) => med(many[names[i]!]!, 'rps');
  const verdict = (ok: boolean) => (ok ? 'met' : '**not met**');
  const goals = [
    `Goals, tracing on (off): gateway ${fmt(gw(2) / raw, 2)}× (${fmt(gw(3) / raw, 2)}×) the raw proxy, goal 0.6×: ${verdict(gw(2) / raw >= 0.6)};`,
    `${fmt(gw(2) / gw(4), 2)}× http-proxy-middleware's README form, goal 3×: ${verdict(gw(2) / gw(4) >= 3)};`,
    `${fmt(gw(2) / gw(5), 2)}× it with keep-alive, goal 1.2×: ${verdict(gw(2) / gw(5) >= 1.2)};`,
    `added p50 ${signed(med(one[names[2]!]!, 'p50Us') - directP50)} µs, goal ≤ +100 µs: ${verdict(med(one[names[2]!]!, 'p50Us') - directP50 <= 100)};`,
    `added p99 ${signed(med(one[names[2]!]!, 'p99Us') - directP99)} µs, goal ≤ +1 000 µs: ${verdict(med(one[names[2]!]!, 'p99Us') - directP99 <= 1000)}.`,
  ].join(' ');
  const cpuOf = (name: string) => median(many[name]!.map((r) => r.cpuUsPerRequest ?? 0));
  // After the six fixed rows: the gateway as the container runs it, then BENCH_BASELINE's (the same gateway at an earlier commit).
  const container = names.find((name) => name.includes('as the container runs it'));
  const compiled = container
    ? ` As the container runs it (tsc's output, the image's flags): ${fmt(med(many[container]!, 'rps') / raw, 2)}× the raw proxy, ${fmt(cpuOf(container), 0)} µs CPU per request (tsx: ${fmt(cpuOf(names[2]!), 0)} µs).`
    : '';
  const before = names.find((name) => name.startsWith('our gateway at '));
  const baseline = before
    ? ` Same run, ${before.replace(/, tracing on$/, '')}: ${fmt(med(many[before]!, 'rps') / raw, 2)}× the raw proxy, ${fmt(cpuOf(before), 0)} µs CPU per request (today ${fmt(cpuOf(names[2]!), 0)} µs).`
    : '';
  return [
    `| path | min req/s | median req/s | vs raw Node proxy | proxy CPU per request | proxy reads + writes per request | added p50 at 1 connection | added p99 at 1 connection | non-2xx + socket errors |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    goals + compiled + baseline,
  ].join('\n');
}

export interface CpuProfile {
  startTime: number;
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }>;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileFindings {
  table: string;
  top: string;
  rps: number;
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
export function analyse(profile: CpuProfile, fromMs: number, toMs: number): { table: string; top: string } {
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

export function sectionText(table: string, profile: ProfileFindings, run: RunShape): string {
  const { connections: CONNECTIONS, seconds: SECONDS, rounds: ROUNDS, sampleRatio: SAMPLE_RATIO } = run;
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
even when the shared machine's load moves the req/s. "Reads + writes" are the read and write system
calls the proxy made per request (/proc/<pid>/io, every thread; the kernel counts them at full
speed, so they do not move with the machine's load): a keep-alive hop needs 4 (the request read
from the client and written upstream, the answer read and written back); what is above 4 is the
proxy's own (its log lines, Redis, OTLP export).

${table}

### What each change bought (issue 11)

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
| **dispatch off express**: the route table answered from the listener (gateway/src/dispatch.ts, express's matching rules in route-matcher.ts), inside one request envelope (identity headers, server span, access log, metrics: infra/src/server/request-envelope.ts) instead of three express middlewares; express still serves the docs, preflights and 404s | 5818 → 6023 (runs an hour apart; side by side with the start of the session, after every change below: see the sentence under the table) | 197 → 140 µs (tracing off: 164 → 119 µs) | express + middleware 4.1 % → 0.2 %, infra server 1.7 % → 1.9 % (now the whole envelope) |
| ServiceClient, second pass: opossum without latency percentiles and snapshots, per-instance metric series as plain numbers, the attempt aborted through undici's own abort, one timer (BENCHMARKS.md "Client overhead") | within noise here | ServiceClient alone: 40.6 → 24.8 µs per call (raw undici ~18.5 µs) | ServiceClient 7.2 % → 5.3 % |
| headers: one loop, no set built for a plain \`Connection: keep-alive\`; the relay's listeners as one object's methods (no \`__name\` per request under tsx) | within noise | within noise | \`__name\` 2.4 % → 0, \`selectEndToEnd\` 1.4 % → ~0.8 % |
| tried and reverted: the log written in 4 KB batches (sonic-boom \`minLength\`, flushed every 100 ms) | 7961 → 8061 | 132 → 132 µs | none: the access line's cost is pino building it, not the write (ACCESS_LOG=false: 122 µs) |
| access line and spans (session 2026-11-27, side by side with its start, 9552c30, interleaved rounds × 4 s; this machine ran ~1.6× slower than the rows above that day and swung widely): the access line built from pino's own prepared parts (level prefix, bindings, line end; byte for byte pino's line: infra/src/server/access-log.ts), ISO timestamps formatted once per second (infra/src/logger.ts), span attributes only on spans that record, and no client span under an unsampled parent: the parent's context goes on as it is (parent-based samplers only: infra/src/client/attempt.ts) | 6 pairs: 4007 → 4925, lower CPU in all 6; 8 pairs: 4377 → 4442, lower CPU in 4 of 8 | 6 pairs: 269 → 219 µs (min 218 → 188); 8 pairs: 245 → 243 µs (min 222 → 163): within this machine's noise end to end | in-process, without the machine's noise: an access line 3.1 → 0.5 µs (pino's info() and \`toISOString\` were 4.8 % and 1.5 % of the profile); a request's spans and propagation with the 1 % sampler 3.5 → 2.1 µs |
| security headers (session 2026-11-27, second; judged by instructions per request, bench/hop-instructions.ts's method, tracing off, no flags): data answers get a data policy of 5 short headers (CSP \`default-src 'none'; frame-ancestors 'none'\`, nosniff, \`DENY\`, CORP, HSTS) instead of helmet's 12 (~600 bytes, a 250-byte CSP that node's header check scans on every request); helmet's set stays on the docs page; the token cache asked with the header as sent, before its regular expression runs (gateway/src/browser-policy.ts, verified-tokens.ts) | side by side with the session's start (that day's table, its last row, tracing on, tsx): 4228 → 4992 | 265 → 214 µs; instructions per request 435 K → 401 K (helmet's 12 headers alone: 82 K, 19 %) | header-value checks (node's \`[^\\t\\x20-\\x7e\\x80-\\xff]\`) 13.8 K → 10.4 K, name checks 6.7 K → 4.2 K, the Bearer expression 4.6 K → 0 instructions per request |
| start-up collection inside a nextTick callback (infra/src/runtime/startup-memory.ts): forced from a promise reaction, it left \`process.nextTick\` ~7× slower for the life of the process (section "process.nextTick after a full collection"); this is the image's \`--expose-gc\` path, so the container row | container row of that day's table | instructions per request with the image's flags 517 K → 404 K (tracing off) | V8 runtime (\`Runtime_DefineKeyedOwnPropertyInLiteral\` from nextTick's tick object) 109 K → 37 K; nextTick's self time in a CPU profile was 7.6 µs per request against 1.2 µs without the flags |
| allocations and listeners (session 2026-11-27, third; judged by bytes allocated per request, V8's \`--trace-gc\` account, which repeats within ~2 % here): server request metrics counted into plain numbers per (method, route) and handed to prom-client when read (infra/src/server/request-metrics.ts); the client-gone cancellation one object and one \`close\` listener instead of an AbortController (infra/src/cancellation.ts); \`close\` listeners with \`on\` (\`once\` wraps each in a bound function); no context made for the no-op span (tracing off); the retry loop's attempt one class instance, the breaker running its \`run()\` in one async function, stream()'s consumer synchronous (infra/src/client); request and answer headers copied straight into their result, prefix checks only for names starting with a prefix's letter, the data policy set by an indexed loop (its \`for...of\` destructuring alone was 3 % of the bytes); no body read and no \`.catch\` closure for a bodiless request (gateway/src) | side by side with cde2efa (that session's table, tracing on, 3 rounds; with the next row, which changes little for this tsx row: it forces no collection): 1509 / 2058 / 2268 → 2008 / 2273 / 2513 | 762 / 514 / 474 → 578 / 466 / 415 µs; instructions per request within this run's noise (section "Gateway hop in instructions") | bytes allocated per proxied request 42.5 → 35.7 KB, tracing off (2 runs before: 42.3, 42.7; the raw proxy: 16.6); prom-client's labels and the AbortController no longer appear in a sampling heap profile |
| a tick object held for the life of each service (infra/src/runtime/tick-object-pin.ts): after a memory-reducing full collection that finds no tick object alive, nextTick stays slow; the start-up collection runs inside a tick since the row above, and V8's own memory-reducing collections can still land between ticks | container row of that session's table | nextTick after the start-up collection: 1.05-1.74× → 0.94-1.00× of its speed without it (section "process.nextTick after a full collection") | under valgrind, where V8's memory reducer runs such collections: V8 runtime (\`Runtime_DefineKeyedOwnPropertyInLiteral\`) 101 K → 34 K instructions per request |

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

- **0.6× the raw proxy is out of reach with every feature on.** On this machine (2026-11-28: syscalls
  cost more than on the machine of the earlier rows, and it swung ±30 % between rounds) the gateway
  reached 0.47× tracing off and 0.43× on (the day before, on another machine: 0.56× and 0.47×);
  in CPU per request it is 2-2.6× the raw proxy (219 and 274 against 106 µs), and 2.5-2.6× its
  instructions (section "Gateway hop in instructions"). It makes the raw proxy's system calls (the
  table's reads + writes column: 4.30 against 4.03), so the whole gap is user-space work: ours,
  node's http and undici's for the headers we add, and the garbage. Here it is on par with express
  + http-proxy-middleware (0.92-0.93× its req/s, CPU 219-274 against 235-259 µs), which Node 24's
  keep-alive default made much faster than the issue's table shows (below). The profile
  is flat: the socket writes, Node's http, undici, GC, and no layer of ours above ~6 %. It
  allocates 35.7 KB per request against the raw proxy's 16.6 KB: in a sampling heap profile the
  largest are node's tick objects (7.5 %: streams and http schedule a dozen nextTicks per
  request), node's header string (\`_storeHeader\`, 5 %) and header dictionary (growing with each
  \`setHeader\`, ~5 %), the access line (3 %), undici's request header (3 %), and the client's
  attempt chain (promises of ~10 async steps: ServiceClient, retry loop, breaker, opossum,
  attempt, transport, undici; ~16 % together). Each feature measured on its own costs about what is
  missing: the access log (ACCESS_LOG=false: −28 K instructions, 7 %), tracing at a 1 % sampler
  (a span made and dropped, the context propagated), the rate limits, the security headers and
  the token check. Dropping any of them is not on the table (the issue rules it out).
- **The container's \`--max-semi-space-size=4\`** makes ~6× more scavenges under load (450-525
  against 68-79 over ~40 000 requests at 8 connections) for the same 36 KB per request; CPU per
  request with it (4 runs, alone or with \`--expose-gc\`) was 368-394 µs against 315-332 µs with
  V8's defaults (2 runs), but \`--expose-gc\` alone measured 318 and 398 µs and a 16 MiB cap 384 µs
  (8 s at 8 connections, compiled gateway, alternating): a possible 10-15 %, not told apart from
  this machine's noise. The cap was chosen for idle RSS
  before the start-up collection shrank the young generation anyway; raising it would need the
  footprint bench's "under load" figures (with 16 MiB: 210 MiB of RSS after load against 183).
  In the 2026-11-27 table the container row (compiled, the image's flags) took 512-669 µs per
  request against the tsx row's 415-578 µs; in today's, 284-378 against 234-306 µs.
- **Old-generation growth under load**: each scavenge promotes ~1 MiB (\`--trace-gc\`: the old
  generation climbs ~18 MiB per 15 scavenges until a full collection takes it from ~95 back to
  23 MiB); V8 keeps the pages committed after it, so the gateway's RSS stays at its peak. What
  survives two scavenges per request is not yet identified.
- **The access line's write** shows as 5-8 % of the main thread's samples (\`writeString\`, pino's
  asynchronous write queued to libuv's pool) in CPU profiles, ~16 µs per request, yet pino's
  destination called \`fs.write\` 0.07 times per request (counted by wrapping it: ~14 lines per
  write at 32 connections, its own coalescing while a write is in flight): the samples are the
  main thread descheduled after waking the pool's thread on a 2-core machine, not work of its
  own. Measured on 2026-11-28 (6 interleaved rounds × 4 s at 32 connections, tracing off): the
  lines gathered per event-loop turn and written synchronously once per turn (0.07 writes per
  request, no pool), the same gathered and written through the pool, today's destination, and
  ACCESS_LOG=false: medians 4903 / 5233 / 5317 / 6277 req/s, CPU 178 / 177 / 185 / 192 µs per
  request, each row's rounds spread over ±40 %: no difference this machine can show, so not taken.
- **Writing the access log synchronously** (pino's destination with \`sync: true\`, one write(2) on
  the main thread instead of a job on libuv's pool) counted 401 K → 389 K instructions per
  request, most of it in GC, within ~3 % noise: not taken, as a slow stdout would then stall
  the event loop.
- **Per request, system calls** (the table's reads + writes, /proc/<pid>/io at full speed): one
  read of the request, one write upstream, one read of the answer, one writev to the client, as
  the raw proxy; the gateway's 0.27-0.28 more are the access lines (0.07 \`fs.write\`), the pool's
  wake-ups for them (eventfd), the rate limits' lease round trips to Redis and the OTLP export.
  Under strace (which slows the process until every turn serves one request) the same gateway
  shows one \`fs.write\` per line and a futex per line: counts taken under strace overstate what
  batching would save.
- **Scavenges are the GC cost**: V8's young-generation collections ran 1–7 ms each under this
  load (their wall time, on a 2-core machine shared with wrk and the backend), one per ~45
  requests with the image's 4 MiB semi-spaces and one per ~500 with V8's default; CPU per
  request was the same either way.
- **Added p50 at 1 connection is the serial path's CPU**: one request at a time, the gateway's
  CPU per request plus its wake-ups; it moves with the CPU per request, not with anything that waits.
  On this machine the raw proxy itself adds +367 µs to the direct call's 132 µs p50 (the goal is
  +100 µs): the goal sits below what Node's least keep-alive hop reaches here; the gateway adds
  173-290 µs to the raw proxy's.
- **p99 at 1 connection is dominated by this shared machine**: the direct call's own p99 ranged
  0.5–3 ms across today's runs, and the raw proxy's 0.9–3.3 ms; the gateway's lands 2–5 ms.
- **The container's memory flags and the hop.** The container row is tsc's output on plain node
  with the image's \`NODE_OPTIONS\`. Until the start-up collection moved into a nextTick callback
  (row in the table above) its CPU per request ranged from −5 % to +50 % against the tsx row over
  seven runs; most of that was the slowed nextTick, which instruction counts showed plainly
  (517 K against 401 K). With the fix the flags cost ~3 % in instructions (472 K against 456 K,
  tracing on, section "Gateway hop in instructions"). What remains is the young generation: both flags keep it small
  (\`--max-semi-space-size=4\` caps it at 2 × 4 MiB; the start-up GC that \`--expose-gc\` allows,
  infra/src/runtime/startup-memory.ts, shrinks it to 1 MiB and V8 regrows it slowly under load: 1 →
  16 MiB over 6 s, against 64 MiB throughout without the flags), so scavenges come oftener and
  promote requests in flight. How much that costs the hop, 0 % or 15 %, is below what this machine
  tells apart. The flags buy the idle footprint (BENCHMARKS.md "Footprint": 124 → 84 MiB for the
  gateway), so they stay; a gateway that wants the difference can drop them in its own compose
  \`environment\` (idle RSS ~124 MiB then). V8's \`--min-semi-space-size\` and
  \`--semi-space-growth-factor\` are refused in NODE_OPTIONS.
- Node 24's global HTTP agent keeps connections alive by default, so http-proxy-middleware's README
  form is no longer "a new connection per request": its two rows are close.
- This machine is shared and was loaded while measuring: compare ratios and CPU per request within
  the table, not absolute req/s across runs.

${machineLine()} Command: \`npm run bench -- gateway-hop\` (BENCH_ROUNDS, BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_SAMPLE_RATIO; BENCH_ONLY=raw,gateway,… for a quick partial run that writes nothing; BENCH_GATEWAY_ENV='{"ACCESS_LOG":"false"}' and BENCH_GATEWAY_NODE_OPTIONS for the gateways only; BENCH_CONTAINER_VARIANTS='[{"NODE_OPTIONS":""}]' adds compiled gateways with other image variables; BENCH_BASELINE=<git ref> adds the gateway at that commit as a last row; BENCH_PROFILE_TRACING=off profiles the gateway with tracing off; needs wrk).`;
}

/** A difference with its sign: +82, −236 (a row's p99 can land under the direct call's on a noisy run). */
function signed(us: number): string {
  return us < 0 ? `−${fmt(-us, 0)}` : `+${fmt(us, 0)}`;
}
