/**
 * Client overhead: ServiceClient (watcher + round robin over 3 instances + breaker + tracing
 * hooks + retry bookkeeping) against a plain keep-alive axios call to one of the same instances,
 * under the same load in the same run. A plain undici call is measured too: it is why the
 * ServiceClient's transport is undici. Run: npm run bench -- client-overhead
 */
import { Agent as HttpAgent } from 'node:http';
import axios from 'axios';
import { Agent, request } from 'undici';
import { ServiceClient, Watcher, createConsulClient, instanceOrigin } from '@switchyard/infra';
import { startProcess, stopAllProcesses } from '../test/support/processes.js';
import { fmt, machineLine, median, writeSection } from './report.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 4000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const service = `bench-client-${process.pid}`;

const instances = [0, 1, 2].map(() =>
  startProcess('infra/test/fixtures/echo-service.ts', { SERVICE_NAME: service, ACCESS_LOG: 'false' }),
);
try {
  await Promise.all(instances.map((p) => p.listening()));
  const consul = createConsulClient(process.env.CONSUL_HTTP_ADDR ?? 'http://127.0.0.1:8500');
  const watcher = new Watcher({ consul, service }).start();
  while (watcher.instances().length < 3) await new Promise((r) => setTimeout(r, 20));
  const target = instanceOrigin(watcher.instances()[0]!);

  const client = new ServiceClient(service, watcher);
  const plainAxios = axios.create({ baseURL: target, httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 64 }) });
  const undiciAgent = new Agent({ keepAliveTimeout: 4_000, connections: 64 });

  const contenders: Record<string, () => Promise<unknown>> = {
    'axios, keep-alive, 1 instance': () => plainAxios.get('/whoami'),
    'undici, keep-alive, 1 instance': async () => {
      const res = await request(`${target}/whoami`, { dispatcher: undiciAgent });
      await res.body.arrayBuffer();
    },
    'ServiceClient, round robin over 3': () => client.get('/whoami'),
  };

  async function throughput(call: () => Promise<unknown>): Promise<number> {
    let remaining = REQUESTS;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (remaining-- > 0) await call();
      }),
    );
    return REQUESTS / ((performance.now() - started) / 1000);
  }

  // Warm up every contender (JIT, connections) before measuring.
  for (const call of Object.values(contenders)) await throughput(call);
  const results: Record<string, number[]> = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
  // Interleaved rounds, so drift in machine load hits every contender alike.
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, call] of Object.entries(contenders)) results[name]!.push(await throughput(call));
  }

  const base = median(results['axios, keep-alive, 1 instance']!);
  const lines = Object.entries(results).map(
    ([name, values]) => `| ${name} | ${fmt(Math.min(...values), 0)} | ${fmt(median(values), 0)} | ${fmt(median(values) / base, 2)}× |`,
  );
  const table = ['| caller | min req/s | median req/s | median vs axios |', '| --- | --- | --- | --- |', ...lines].join('\n');
  console.log(table);
  writeSection(
    'client-overhead',
    `## Client overhead: ServiceClient vs a plain keep-alive call

Goal: ServiceClient ≥ 0.85× the plain axios call's throughput. ${ROUNDS} interleaved rounds of ${REQUESTS} GET
requests at concurrency ${CONCURRENCY} against 3 instances of the echo fixture service (real processes,
registered in Consul); the plain callers hit one of them. The plain undici row is why ServiceClient's
transport is undici rather than axios on this hot path.

${table}

${machineLine()} Command: \`npm run bench -- client-overhead\`.`,
  );
  await client.close();
  await watcher.stop();
  await undiciAgent.close();
} finally {
  await stopAllProcesses();
}
process.exit(0);
