/**
 * The gateway-hop benchmark's report: the results table with its goal verdicts, the profile's
 * self time per layer, and the BENCHMARKS.md section's text (bench/gateway-hop.ts runs the load).
 */
import { fmt, machineLine, median } from './report.js';
import type { SerialTimeline } from './serial-timeline.js';

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

/**
 * The serial timeline (bench/serial-timeline-probe.mjs): a 1-connection request's time in the
 * proxy, split at its two writes, medians over the rounds of each round's median.
 */
export function timelineTable(names: string[], timelines: Record<string, Array<SerialTimeline & { p50Us: number }>>): string {
  const cell = (values: Array<number | null>) => {
    const known = values.filter((v): v is number => v !== null);
    return known.length === 0 ? '—' : `${fmt(median(known), 1)} µs`;
  };
  const rows = names
    .filter((name) => timelines[name])
    .map((name) => {
      const ts = timelines[name]!;
      return `| ${name} | ${fmt(median(ts.map((t) => t.p50Us)), 0)} µs | ${cell(ts.map((t) => t.inUs))} | ${cell(ts.map((t) => t.upstreamUs))} | ${cell(ts.map((t) => t.answerUs))} | ${fmt(median(ts.map((t) => t.n)), 0)} |`;
    });
  return [
    '| path | p50 at 1 connection (this pass) | request in → upstream write | upstream write → answer parsed | answer parsed → written to the client (res.end returned) | requests timed per round |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
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
    const serialCpu = i === 0 ? '—' : `${fmt(median(one[name]!.map((r) => r.cpuUsPerRequest ?? 0)), 0)} µs`;
    return `| ${name} | ${fmt(Math.min(...rs.map((r) => r.rps)), 0)} | ${fmt(med(rs, 'rps'), 0)} | ${i === 0 ? '—' : `${fmt(med(rs, 'rps') / raw, 2)}×`} | ${cpu} | ${calls} | ${added} | ${addedP99} | ${serialCpu} | ${bad} |`;
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
    `| path | min req/s | median req/s | vs raw Node proxy | proxy CPU per request | proxy reads + writes per request | added p50 at 1 connection | added p99 at 1 connection | proxy CPU per request at 1 connection | non-2xx + socket errors |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
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

export function sectionText(table: string, timeline: string, profile: ProfileFindings, run: RunShape): string {
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
proxy's own (its log lines, Redis, OTLP export). "Proxy CPU per request at 1 connection" is the same
CPU time over the 1-connection run: nothing is batched there, so it is the serial path the added
p50 is made of. The row "sending the gateway's upstream headers" is the raw proxy sending what
the gateway must tell an upstream besides the request (the client's token, X-Forwarded-For/-Host/
-Proto and X-Real-IP, a request id, trace context in W3C's and Jaeger's formats): what those bytes
cost a hop before any of the gateway's own work.

${table}

Where the time of one request goes at 1 connection, split at the proxy's two writes (bench/serial-timeline-probe.mjs:
node's diagnostics channels for the server's request start, undici's write of the request headers
upstream and undici's parse of the answer's headers, and the moment the proxy's \`res.end()\`
returned, having written the answer to the client's socket). Recorded in a pass of its own after
the rounds (the probe is inert until then), ${ROUNDS} rounds of ${Math.max(2, Math.round(SECONDS / 2))} s, only while one request is in the
proxy; medians of each round's median (the probe's own cost, three channel messages and a wrapped
\`res.end()\` per request, is in them). The middle stretch is the backend's turn and the wake-ups
on both sides, so it is the proxy's own only in what it adds to the raw proxy's; express +
http-proxy-middleware sends through node's http client, which the probe does not see.

${timeline}

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
| tried again and reverted (session 2026-11-28, fourth): the relay as a class, its two listeners bound in its constructor (one object and two closures per request instead of one object of eight closures) | 15159 / 17617 (the object of closures, at 5daded9) → 13272 / 14199 | 59-70 → 70-119 µs in 6 of 7 side-by-side runs (gateway-hop, BENCH_BASELINE) | none removed: the class spent ~4× the garbage collector's samples (1789 vs 472 ms in one profile pair); why was not found. The object of closures back, with the stall clock's new fields: 58 / 61 / 68 µs beside 5daded9's 61 / 59 / 66 |
| **dispatch off express**: the route table answered from the listener (gateway/src/dispatch.ts, express's matching rules in route-matcher.ts), inside one request envelope (identity headers, server span, access log, metrics: infra/src/server/request-envelope.ts) instead of three express middlewares; express still serves the docs, preflights and 404s | 5818 → 6023 (runs an hour apart; side by side with the start of the session, after every change below: see the sentence under the table) | 197 → 140 µs (tracing off: 164 → 119 µs) | express + middleware 4.1 % → 0.2 %, infra server 1.7 % → 1.9 % (now the whole envelope) |
| ServiceClient, second pass: opossum without latency percentiles and snapshots, per-instance metric series as plain numbers, the attempt aborted through undici's own abort, one timer (BENCHMARKS.md "Client overhead") | within noise here | ServiceClient alone: 40.6 → 24.8 µs per call (raw undici ~18.5 µs) | ServiceClient 7.2 % → 5.3 % |
| headers: one loop, no set built for a plain \`Connection: keep-alive\`; the relay's listeners as one object's methods (no \`__name\` per request under tsx) | within noise | within noise | \`__name\` 2.4 % → 0, \`selectEndToEnd\` 1.4 % → ~0.8 % |
| tried and reverted: the log written in 4 KB batches (sonic-boom \`minLength\`, flushed every 100 ms) | 7961 → 8061 | 132 → 132 µs | none: the access line's cost is pino building it, not the write (ACCESS_LOG=false: 122 µs) |
| access line and spans (session 2026-11-27, side by side with its start, 9552c30, interleaved rounds × 4 s; this machine ran ~1.6× slower than the rows above that day and swung widely): the access line built from pino's own prepared parts (level prefix, bindings, line end; byte for byte pino's line: infra/src/server/access-log.ts), ISO timestamps formatted once per second (infra/src/logger.ts), span attributes only on spans that record, and no client span under an unsampled parent: the parent's context goes on as it is (parent-based samplers only: infra/src/client/attempt.ts) | 6 pairs: 4007 → 4925, lower CPU in all 6; 8 pairs: 4377 → 4442, lower CPU in 4 of 8 | 6 pairs: 269 → 219 µs (min 218 → 188); 8 pairs: 245 → 243 µs (min 222 → 163): within this machine's noise end to end | in-process, without the machine's noise: an access line 3.1 → 0.5 µs (pino's info() and \`toISOString\` were 4.8 % and 1.5 % of the profile); a request's spans and propagation with the 1 % sampler 3.5 → 2.1 µs |
| security headers (session 2026-11-27, second; judged by instructions per request, bench/hop-instructions.ts's method, tracing off, no flags): data answers get a data policy of 5 short headers (CSP \`default-src 'none'; frame-ancestors 'none'\`, nosniff, \`DENY\`, CORP, HSTS) instead of helmet's 12 (~600 bytes, a 250-byte CSP that node's header check scans on every request); helmet's set stays on the docs page; the token cache asked with the header as sent, before its regular expression runs (gateway/src/browser-policy.ts, verified-tokens.ts) | side by side with the session's start (that day's table, its last row, tracing on, tsx): 4228 → 4992 | 265 → 214 µs; instructions per request 435 K → 401 K (helmet's 12 headers alone: 82 K, 19 %) | header-value checks (node's \`[^\\t\\x20-\\x7e\\x80-\\xff]\`) 13.8 K → 10.4 K, name checks 6.7 K → 4.2 K, the Bearer expression 4.6 K → 0 instructions per request |
| start-up collection inside a nextTick callback (infra/src/runtime/startup-memory.ts): forced from a promise reaction, it left \`process.nextTick\` ~7× slower for the life of the process (section "process.nextTick after a full collection"); this is the image's \`--expose-gc\` path, so the container row | container row of that day's table | instructions per request with the image's flags 517 K → 404 K (tracing off) | V8 runtime (\`Runtime_DefineKeyedOwnPropertyInLiteral\` from nextTick's tick object) 109 K → 37 K; nextTick's self time in a CPU profile was 7.6 µs per request against 1.2 µs without the flags |
| allocations and listeners (session 2026-11-27, third; judged by bytes allocated per request, V8's \`--trace-gc\` account, which repeats within ~2 % here): server request metrics counted into plain numbers per (method, route) and handed to prom-client when read (infra/src/server/request-metrics.ts); the client-gone cancellation one object and one \`close\` listener instead of an AbortController (infra/src/cancellation.ts); \`close\` listeners with \`on\` (\`once\` wraps each in a bound function); no context made for the no-op span (tracing off); the retry loop's attempt one class instance, the breaker running its \`run()\` in one async function, stream()'s consumer synchronous (infra/src/client); request and answer headers copied straight into their result, prefix checks only for names starting with a prefix's letter, the data policy set by an indexed loop (its \`for...of\` destructuring alone was 3 % of the bytes); no body read and no \`.catch\` closure for a bodiless request (gateway/src) | side by side with cde2efa (that session's table, tracing on, 3 rounds; with the next row, which changes little for this tsx row: it forces no collection): 1509 / 2058 / 2268 → 2008 / 2273 / 2513 | 762 / 514 / 474 → 578 / 466 / 415 µs; instructions per request within this run's noise (section "Gateway hop in instructions") | bytes allocated per proxied request 42.5 → 35.7 KB, tracing off (2 runs before: 42.3, 42.7; the raw proxy: 16.6); prom-client's labels and the AbortController no longer appear in a sampling heap profile |
| a tick object held for the life of each service (infra/src/runtime/tick-object-pin.ts): after a memory-reducing full collection that finds no tick object alive, nextTick stays slow; the start-up collection runs inside a tick since the row above, and V8's own memory-reducing collections can still land between ticks | container row of that session's table | nextTick after the start-up collection: 1.05-1.74× → 0.94-1.00× of its speed without it (section "process.nextTick after a full collection") | under valgrind, where V8's memory reducer runs such collections: V8 runtime (\`Runtime_DefineKeyedOwnPropertyInLiteral\`) 101 K → 34 K instructions per request |
| in-flight responses kept in an index-swapping array instead of a Set (infra/src/server/in-flight.ts; session 2026-11-28, second; judged by V8's \`--trace-gc-nvp\` account, 5 s at 32 connections, tracing off): a Set every request enters and leaves rehashes its table every few dozen requests, and V8 links each replaced table to its successor (for iterators); with the first table in the old generation (a server's Set always is), each successor, and the responses it held with all they reference, survived scavenges through that link until the next full collection: this was the "old-generation growth" of earlier runs | 16133 → 17287 tracing on, 17985 → 19649 off (two full runs ~10 minutes apart) | 68 → 62 µs, off 60 → 52 µs | promoted 11 % of all it allocated (305 of 2760 MB, ~4 KB per request) → 0.3 %; scavenge pauses 397 → 52 ms per 5 s; full collections 3-4 → 0-2 per 5 s; garbage collection 17 % → 2-8 % of the profile. A plain script shows it: objects entering and leaving an old Set, 91 % of them promoted; an array, 0 % |
| relay over undici's dispatch API (ServiceClient.relay, infra/src/client/relay-exchange.ts): the attempt's exchange is undici's handler, the body's chunks go from undici's parser straight into \`res.write\`, and back-pressure is undici's own pause (onData returning false); no Readable, no request-API promise and async resource, no listeners on the upstream side | side by side with 92a0bf7 (3 rounds, tracing on): 17567 → 19179 | 60 → 54 µs | in the raw proxy alone the same swap (\`pool.request\` + \`pipe\` → \`pool.dispatch\` with a handler writing into the response) measured 36 → 33 µs per request |
| an untrusted caller's trace context extracted only when it sent one of the propagators' headers (infra/src/server/request-envelope.ts): Jaeger's extract lists every header name, for its baggage, on every request | within noise (5 rounds side by side: 17629 → 16936, rounds from 8601 to 19199) | within noise (59 → 62 µs) | work removed, no figure this machine tells apart |
| span export every 200 ms instead of every second (infra/src/tracing.ts; session 2026-11-28, third; judged by V8's \`--trace-gc-nvp\` account and CPU per request over 5 s at 32 connections, tracing on, a gateway started afresh for each run, 1 s and 200 ms alternating): with a one-second export delay a gateway fell, from its start, into one of two states: in 8 of 14 runs it promoted ~14 % of all it allocated and paused ~450 ms per 5 s for scavenges; at 200 ms, none of 12 did. What survived the scavenges (a sampling heap profile keeping the objects full collections freed, \`HeapProfiler.startSampling\` with \`includeObjectsCollectedByMajorGC\`) was every request's server span and trace ids and undici's per-request timers: not the sampled spans waiting for export (exporting every 8 spans still showed it) but something reached through Node 24's async context frames (none with \`--no-async-context-frame\`, which puts AsyncLocalStorage back on async hooks and costs ~10 µs per request more; none with the sampler off); which reference carries it is not pinned down | 4 pairs side by side: 17663 / 20647 / 19612 / 14967 → 20558 / 19753 / 19929 / 18692 | 62 / 52 / 53 / 77 → 51 / 53 / 53 / 56 µs (the 1 s runs at 62 and 77 were the ones promoting) | promoted 14.0 / 0.9 / 0.9 / 13.5 % → 1.1 / 0.8 / 0.7 / 1.2 % of all allocated; spans also reach Jaeger within 200 ms |
| log lines gathered for up to 100 ms or 4 KiB and written together (LOG_FLUSH_MS, infra/src/log-lines.ts; session 2026-11-28, fourth; side by side with bef08e0, 3 rounds, tracing on): at 1 connection each access line was its own write through libuv's pool and a wake-up back; its one timer is made at start-up, outside any request (a timer keeps the async context it was made in) | 15341 → 16438 (32 connections, within noise) | 32 connections 64-70 → 53-66 µs; **1 connection 147-178 → 119-131 µs**, p50 179-206 → 170-173 µs | the pool hand-off per line at 1 connection; lines at most 100 ms late, written at exit |
| the answer relayed from inside the attempt (session 2026-11-29; \`ServiceClient.relay(request, receive)\`: the proxy's receiver gets the accepted answer one promise hop after undici's onHeaders, and a small answer is written to the client before the breaker's, the retry loop's and the call's promises settle, about eight hops that used to come first; \`openRelay\` no longer an async function) | within noise (3 rounds beside 88d5ce3: 6196 / 6263 / 5404 against 7240 / 3994 / 5841; this machine ran ~2.5× slower than the rows above that day) | 32 connections within noise (164 against 177 µs, median); 1 connection p50 220 / 215 / 287 against 221 / 247 / 308 µs | in-process timestamps (the serial timeline's probe), tracing off: "answer parsed → written to the client" 35-40 µs before against the raw proxy's 27-29; after, 30-37 against 26-31 |
| the edge's answer headers set while the upstream works (session 2026-11-29; \`ProxiedRequest.upstreamSent\`: \`x-gateway\` and the five security headers are set once undici has written the request upstream, before its answer can arrive, instead of before the upstream call; a refusal before that sets them as it answers) | 3 rounds beside c110869, tracing on: 7426 / 6647 / 6967 against 5798 / 6966 / 4028 | 135 / 151 / 141 against 173 / 144 / 246 µs; 1 connection p50 172 / 272 / 163 against 245 / 183 / 351 µs | serial timeline, "request in → upstream write", its two calmer rounds: 40.8 / 34.2 against 44.7 / 39.3 µs (the ~3.4 µs those headers took before the write now fall in the upstream's turn) |
| bench: each contender warmed 6 s at 32 connections and 2 s at 1 connection before the rounds (was 2 s at 32): after 2 s the gateway's CPU per request at 1 connection still fell ~15 % from round to round (157 → 149 → 138 µs), the raw proxy's not at all, so the added-p50 column was the gateway's warm-up | — | — | — |

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

- **Where the goals stand** (the goals line under the table). On 2026-11-29 this machine ran
  ~2.5× slower than the sessions before (the backend alone 36 000 req/s against 67 000-86 000; the
  raw proxy 7 500-11 000 against 28 000) and swung within runs: that day's two full runs (the
  table is the second) measured the tracing-on gateway at 0.54-0.56× the raw proxy and +180 to
  +267 µs added p50, tracing off 0.62-0.74× and +108 to +205 µs, the raw proxy itself +79 to
  +117 µs (+71 the day before);
  side by side with the code of the day before (4328764, 3 rounds, same hour) today's tracing-on
  gateway took 124-175 against 135-146 µs CPU per request and a p50 at 1 connection of 155-193
  against 202-221 µs: no regression, the machine. Compare within a run. Before that (2026-11-28,
  fourth session), this machine's noise was as large as the differences: over the last two sessions' full runs the
  tracing-on gateway measured 0.56-0.61× the raw proxy (tracing off 0.59-0.74×) and 1.06-1.22×
  express + http-proxy-middleware with keep-alive; the p99 at 1 connection, tracing on, moved
  +1.0 to +2.3 ms between runs of the same code (that session: +1.83 ms in its table's run, +1.16
  ms four rounds later beside the baseline's +1.62 ms). So 0.6× with everything on, 1.2× express +
  http-proxy-middleware with keep-alive and the added p99 are each met in some runs and not in
  others (all three with tracing off in most). Not met:
  - **3× http-proxy-middleware's README form** is out of reach by construction: Node 24's global
    HTTP agent keeps connections alive, so that form is no longer "a new connection per request"
    and its two rows are close.
  - **Added p50 ≤ +100 µs**: +101-120 µs over the last sessions' full runs (tracing off to on)
    against the raw proxy's +70-78 µs and express + http-proxy-middleware's +100-128 µs. Where the
    gateway's extra time goes, from the serial timeline (second table above) and, inside the
    gateway, from a timestamp at each step of one request (2026-11-29: the timeline's probe plus
    marks in the code, not committed; tracing on / off, medians over ~10 000 serial requests a round,
    2 rounds):
    - **Before the upstream write** the gateway spends ~38 / ~31 µs, the raw proxy ~7: node's
      server to our listener 2.3 µs (raw 1.0); the request envelope 8 / 3.4 µs (request id, two
      identity headers, the server span: an unsampled root span is ~4.5 µs of it); the route
      match 1.8; the edge's headers 3.4 (\`x-gateway\` and five security headers, each through
      node's \`setHeader\` checks); the two allowances 1.1; the token cache 1.4; validation, the
      cancellation listener and the upstream headers 1.5; the ServiceClient up to undici 1.5 +
      6.3 / 4.4 µs (balancer, breaker, attempt record and clock; with tracing, the trace headers);
      undici from its dispatch to the write ~10 µs, against ~6 for the raw proxy's whole
      \`request()\` (the agent's pool lookup, the attempt clock's handler, eight more headers checked
      and written).
    - **The headers a gateway must send** (row "sending the gateway's upstream headers", 2026-11-29,
      3 rounds): they cost the raw proxy ~3 µs before its write, ~3-5 µs more while the backend
      parses them, and 8-16 µs of p50 (CPU per request at 32 connections 61 → 70 µs): a share of the
      gap no proxy doing the gateway's job avoids.
    - **After the answer's headers**: within a few µs of the raw proxy since the answer is relayed
      from inside the attempt (row above).
    So what is ours on the serial path is ~25 µs before the upstream write, spread over a dozen
    steps of 1-8 µs each; the goal needs ~20 µs of them gone with tracing on. The largest left: the
    unsampled root span (~4.5 µs: ids, the sampler, a context; the edge needs it to give its
    upstreams one trace), undici's dispatch path (~4 µs over the raw proxy's), the ServiceClient's
    attempt bookkeeping (~4 µs); the edge's constant headers (~3.4 µs) have since moved behind the
    upstream write (row "the edge's answer headers set while the upstream works").
    Each costs several times what it costs in a loop: the same unsampled root span starts in
    0.6-0.7 µs a million times over (OpenTelemetry's SDK alone, 2026-11-29) against ~4.5 µs on the
    serial path. At 1 connection wrk and the backend run between two of the gateway's requests,
    so each request starts on cold caches and pays for how much code it touches more than for the
    instructions it runs: the raw proxy's short path wins there most.
    Earlier, a perf profile at 1 connection
    (\`perf record -e cpu-clock\` with \`--perf-basic-prof\`, 2026-11-28, third session) put ~45 % of
    the gateway's CPU in the kernel, mostly this VM's cost of waking the peer on loopback (the raw
    proxy pays the same), and spread the rest: undici 13 µs (the raw proxy 9), node's streams and
    http 13 µs, our own code (envelope, dispatch, ServiceClient, breaker) ~11 µs, OpenTelemetry
    ~3 µs directly and 8-20 µs with what it adds to undici, node's http and the microtask queue
    (two more upstream headers, a context per request). Tracing on against off
    at 1 connection (2026-11-28, fourth session, a CPU profile of each, 2 rounds): 117-140 against
    103-121 µs CPU per request, p50 157-184 against 137-145 µs; OpenTelemetry's own functions
    (startSpan, the sampler, id generation and checks, the composite propagator's inject, context
    objects) are ~3 % of the busy samples, ~4 µs per request; the rest of the difference does not
    show as any one JS function (more async-context work in node's internals, two more upstream
    headers through undici's and node's checks, the export's system calls: 4.29 against 4.21 per
    request).
    At 32 connections, by sampler (same session, tracing on against off, one run each): 0 % of new
    traces 51 against 48 µs per request, 1 % (the production setting) 53-66 against 46-57 in
    several runs, 100 % 71 against 51 (the batch queue then drops most spans): the unsampled path
    costs ~3 µs, and the 1 % of traces recorded and exported cost more than their share; where was
    not found (a CPU profile shows OpenTelemetry's JSON export and span code as a few % at most).
- **What the gateway still does beyond the raw proxy** (its CPU per request against the raw
  proxy's in the table; the profile above is flat, no layer of ours above ~6 %):
  node's header dictionary and checks (about a dozen \`setHeader\` per answer: identity, security and
  the upstream's headers; with \`_storeHeader\` and the value check ~5 % of the samples); tracing at
  a 1 % sampler (the on and off rows: a context per request, span and trace ids and the ratio
  sampler, three propagators (W3C trace context and baggage, Jaeger) injecting into each upstream call); the token cache's lookup, which
  hashes the ~300-byte token on every request (~1 %); the ServiceClient's retry loop, breaker and
  attempt bookkeeping (~5 %). Each is below this machine's noise on its own.
- **Async context frames and long timers** (row "span export every 200 ms" above): a gateway
  whose export timer waited a second could spend ~20 % more CPU per request on scavenges, decided
  at its start. 200 ms removed it in every run measured; the reference that kept every request's
  span alive past scavenges was not found (a full collection frees it, so heap snapshots never show
  it). Any other timer of ~1 s armed under load may do the same: worth a reduced case for Node.
  The batch processor arms its export timer from the request whose span ended first; handing
  finished spans to it from the root context instead (so that timer keeps no request's context)
  measured no difference at 200 ms (2026-11-28, fourth session: 59-66 against 61-66 µs per
  request, 3 rounds side by side): not taken.
- **The image's semi-space cap.** The image capped V8's young generation at 2 × 4 MiB for idle RSS.
  With the Set chain (table above) gone, the cap was the largest cost left in the container: the
  compiled gateway, same run (BENCH_CONTAINER_VARIANTS), 4 MiB 14897 req/s and 75 µs per request,
  16 MiB 17149 and 63 µs, no cap 18097 and 59 µs (raw proxy 28124). The start-up collection
  (infra/src/runtime/startup-memory.ts) already shrinks the young generation at idle, so the
  Dockerfile now caps it at 16 MiB (the container row above; idle RSS still within 90 MiB for every
  service: section "Footprint").
- **The access line's write** shows as a few % of the main thread's samples (\`writeString\`, pino's
  write queued to libuv's pool), yet pino's destination calls \`fs.write\` ~0.07 times per request
  (it coalesces ~14 lines while a write is in flight): the samples are the main thread descheduled
  after waking the pool's thread on a 2-core machine. Gathering the lines per event-loop turn (written
  synchronously, or through the pool) measured no difference this machine can show (2026-11-28,
  first session), so it was not taken; writing synchronously would let a slow stdout stall the loop.
  At 1 connection it matters more (2026-11-28, fourth session, side by side, 3 rounds each): the
  compiled gateway with ACCESS_LOG=false spent 112-142 µs CPU per request against 158-198 with the
  log on, p50 161-185 against 181-241 µs (each line is its own write to libuv's pool there: nothing
  to coalesce). pino's destination written synchronously (sonic-boom \`sync: true\`) took 136-143 µs
  against 146-159 at 1 connection but left the p50 where it was (175-179 against 175-185 µs: the
  line is written after the answer left), and cost 5.0 instead of 4.3 system calls and 61-68
  against 56-59 µs per request at 32 connections: not taken. Lines gathered for up to 100 ms (or
  4 KiB) and written together (LOG_FLUSH_MS, infra/src/log-lines.ts, as nginx's \`access_log
  buffer= flush=\`) were taken: row "log lines gathered" in the table of changes above.
- **System calls per request** (the reads + writes column, /proc/<pid>/io at full speed): the raw
  proxy's four, plus ~0.25 of the gateway's own (access lines, the pool's wake-ups for them, the
  rate limits' lease round trips to Redis, the OTLP export). Under strace every line is its own
  write: counts taken under strace overstate what batching would save.
- **p99 at 1 connection moves with this shared machine**: compare it within one run only.
- This machine is shared: compare ratios and CPU per request within the table, not absolute req/s
  across runs.

${machineLine()} Command: \`npm run bench -- gateway-hop\` (BENCH_ROUNDS, BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_SAMPLE_RATIO; BENCH_ONLY=raw,gateway,… for a quick partial run that writes nothing; BENCH_GATEWAY_ENV='{"ACCESS_LOG":"false"}' and BENCH_GATEWAY_NODE_OPTIONS for the gateways only; BENCH_CONTAINER_VARIANTS='[{"NODE_OPTIONS":""}]' adds compiled gateways with other image variables; BENCH_GATEWAY_VARIANTS='[{"ACCESS_LOG":"false"},{"BENCH_ROUTE":"public"}]' adds tracing-on gateways with other variables (BENCH_ROUTE=public: the hop without the token check), a row each; BENCH_BASELINE=<git ref> adds the gateway at that commit as a last row; BENCH_PROFILE_TRACING=off profiles the gateway with tracing off; needs wrk).`;
}

/** A difference with its sign: +82, −236 (a row's p99 can land under the direct call's on a noisy run). */
function signed(us: number): string {
  return us < 0 ? `−${fmt(-us, 0)}` : `+${fmt(us, 0)}`;
}
