/**
 * Client overhead: ServiceClient (watcher + round robin over 3 instances + breaker + tracing
 * hooks + retry bookkeeping) against a raw keep-alive undici call to one of the same instances,
 * under the same load in the same run. The goal (issue 11): ServiceClient on one instance at
 * ≥ 0.85× the raw undici call's throughput on that instance. A plain axios call is measured too:
 * it is why the ServiceClient's transport is undici. Also measured: this process's CPU per call
 * (the caller's side alone: the instances are processes of their own). Where that CPU goes:
 * bench/client-profile.ts. Run: npm run bench -- client-overhead
 */
import { Agent as HttpAgent } from 'node:http';
import axios from 'axios';
import { Agent, request } from 'undici';
import { ServiceClient, loadConfig } from '@switchyard/infra';
import { Watcher, consulConnection, createConsulClient, instanceOrigin } from '@switchyard/infra/discovery';
import { startProcess, stopAllProcesses } from '../test/support/processes.js';
import { closedLoop } from './closed-loop.js';
import { fmt, machineLine, median, writeSection } from './report.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 4000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const service = `bench-client-${process.pid}`;
/** ServiceClient's share of the raw undici call's throughput, on one instance, that issue 11 asks for. */
const GOAL = 0.85;

/** What issue 11 changed on the call path and what each bought, measured when it was made (kept as written). */
const CHANGES = `What issue 11 changed, and what it bought (2026-11-27). CPU per call is the caller's, from
\`bench/client-profile.ts\` (ServiceClient over a fixed list against a bare node:http server in another
process; raw undici costs 17–19 µs per call there): medians of 3 runs alternating the code before and
after, and per package from its CPU profile.

- Overall: 40.6 → 24.8 µs per call (21 → 6 µs above raw undici); with tracing on, 47.0 → 26.8 µs
  when the sampler drops the span and 48.0 → 29.4 µs when it records it. This bench, same day:
  0.65–0.78× of raw undici before (4 runs), 0.76–1.09× after (8 runs, median 0.88×; the low ones
  while another session's services ran on this 2-core machine). Raw undici's own CPU per call here
  is ~28 µs; ServiceClient's went from ~43 to ~34 µs (medians of those runs).
- opossum stays the breaker, with its latency percentiles and per-second snapshots off (nothing
  reads them, and the percentiles re-sorted every latency of the window on each failure) and its
  action made once per instance instead of a closure per call: 2.4 → 1.1 µs.
- prom-client: an instance's outcome counts and latency buckets are plain numbers bound to it
  (\`UpstreamInstanceMetrics\`), added to the instruments whenever these are read, instead of a
  labels object validated and hashed twice per call: 1.6 µs → none measurable.
- Aborting: the attempt's clock aborts through the abort function undici hands the dispatch
  handler, instead of an AbortController whose signal undici and the client both listened to;
  one timer per attempt instead of two: abort signals and timers 1.6 → 0.4 µs, undici's own
  work 5.5 → 3.0 µs.
- Allocations and async hops: one entry per instance (origin, in-flight count, metric series)
  instead of per-call strings, closures and map updates; no filtered copy of the instance list
  when nothing is excluded; no await on a warm client's cold-start check; the tracer looked up
  once; no context made for a span without a valid one (tracing off); undici's lower-cased
  headers kept as they are: the client's own code 6.3 → 2.2 µs, garbage collection 2.2 → 0.9 µs,
  microtasks 2.2 → 1.0 µs.

Run again on 2026-11-29 (sixth session), four times back to back on the code of then: 0.93×, 1.03×,
0.98×, 0.92× (the table is the last), against 0.86× on 2026-11-27.`;

// Three instances behind one name for the balanced client, and one more under its own name: every
// single-instance caller (plain axios, plain undici, ServiceClient pinned to one) hits that one,
// so the 1-instance rows compare like with like.
const single = `${service}-single`;
const instances = [
  ...[0, 1, 2].map(() => startProcess('infra/test/fixtures/echo-service.ts', { SERVICE_NAME: service, ACCESS_LOG: 'false' })),
  startProcess('infra/test/fixtures/echo-service.ts', { SERVICE_NAME: single, ACCESS_LOG: 'false' }),
];
try {
  await Promise.all(instances.map((p) => p.listening()));
  const consul = createConsulClient(consulConnection(loadConfig()));
  const watcher = new Watcher({ consul, service }).start();
  const singleWatcher = new Watcher({ consul, service: single }).start();
  while (watcher.instances().length < 3 || singleWatcher.instances().length < 1) await new Promise((r) => setTimeout(r, 20));
  const target = instanceOrigin(singleWatcher.instances()[0]!);
  const threeOrigins = watcher.instances().map(instanceOrigin);
  let turn = 0;

  const client = new ServiceClient(service, watcher);
  const singleClient = new ServiceClient(single, singleWatcher);
  const plainAxios = axios.create({ baseURL: target, httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 64 }) });
  const undiciAgent = new Agent({ keepAliveTimeout: 4_000, connections: 64 });

  const contenders: Record<string, () => Promise<unknown>> = {
    'axios, keep-alive, 1 instance': () => plainAxios.get('/whoami'),
    'undici, keep-alive, 1 instance': async () => {
      const res = await request(`${target}/whoami`, { dispatcher: undiciAgent });
      await res.body.arrayBuffer();
    },
    'ServiceClient, 1 instance': () => singleClient.get('/whoami'),
    // The same 3 instances rotated by hand: separates the cost of spreading load over three
    // server processes on this 2-core machine from the cost of ServiceClient itself.
    'undici, rotated by hand over 3': async () => {
      const origin = threeOrigins[turn++ % threeOrigins.length]!;
      const res = await request(`${origin}/whoami`, { dispatcher: undiciAgent });
      await res.body.arrayBuffer();
    },
    'ServiceClient, round robin over 3': () => client.get('/whoami'),
  };

  const throughput = (call: () => Promise<unknown>) => closedLoop(call, REQUESTS, CONCURRENCY);

  // Warm up every contender (JIT, connections) before measuring.
  for (const call of Object.values(contenders)) await throughput(call);
  const results: Record<string, { rps: number[]; cpu: number[]; system: number[] }> = Object.fromEntries(
    Object.keys(contenders).map((k) => [k, { rps: [], cpu: [], system: [] }]),
  );
  // Interleaved rounds, so drift in machine load hits every contender alike.
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, call] of Object.entries(contenders)) {
      const { rps, cpuUs, systemUs } = await throughput(call);
      results[name]!.system.push(systemUs);
      results[name]!.rps.push(rps);
      results[name]!.cpu.push(cpuUs);
    }
  }

  const rawUndici = median(results['undici, keep-alive, 1 instance']!.rps);
  const axiosBase = median(results['axios, keep-alive, 1 instance']!.rps);
  const lines = Object.entries(results).map(
    ([name, { rps, cpu }]) =>
      `| ${name} | ${fmt(Math.min(...rps), 0)} | ${fmt(median(rps), 0)} | ${fmt(median(rps) / rawUndici, 2)}× | ${fmt(median(rps) / axiosBase, 2)}× | ${fmt(median(cpu), 1)} |`,
  );
  const table = [
    '| caller | min req/s | median req/s | median vs raw undici | median vs axios | caller CPU µs/call (median) |',
    '| --- | --- | --- | --- | --- | --- |',
    ...lines,
  ].join('\n');
  console.log(table);
  // Not in the section: how much of the CPU per call was the kernel's (socket writes and reads).
  for (const [name, { system }] of Object.entries(results)) console.log(`${name}: kernel ${fmt(median(system), 1)} µs/call`);
  const ratio = median(results['ServiceClient, 1 instance']!.rps) / rawUndici;
  const verdict = ratio >= GOAL ? `**met** in this run` : `**not met** in this run`;
  writeSection(
    'client-overhead',
    `## Client overhead: ServiceClient vs a raw keep-alive undici call

Goal (issue 11): ServiceClient on one instance ≥ ${GOAL}× the throughput of a raw undici call to the same
instance, medians of one run. This run: ${fmt(ratio, 2)}×, ${verdict}.

${ROUNDS} interleaved rounds of ${REQUESTS} GET requests at concurrency ${CONCURRENCY} against the echo fixture
service (real processes registered in Consul): every 1-instance row hits the same instance; the two
"over 3" rows spread over 3 others. The gap between "undici, keep-alive, 1 instance" and
"ServiceClient, 1 instance" is the platform's own cost per call (breaker, balancer, span, metrics,
retry bookkeeping); the CPU column is this process's CPU per call, the caller's side alone (the
instances run in processes of their own). The axios row is why ServiceClient's transport is undici.
Spreading the load over three server processes costs throughput by itself on 2 cores (compare the
two "over 3" rows with their 1-instance counterparts): the client and four server processes share
two cores, so the servers batch less work per wake-up.

${table}

${CHANGES}

${machineLine()} Command: \`npm run bench -- client-overhead\`.`,
  );
  await client.close();
  await singleClient.close();
  await watcher.stop();
  await singleWatcher.stop();
  await undiciAgent.close();
} finally {
  // SIGTERM first: the instances deregister themselves instead of lingering in Consul.
  await Promise.all(instances.map((p) => p.stop('SIGTERM')));
  await stopAllProcesses();
}
process.exit(0);
