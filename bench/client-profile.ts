/**
 * Client CPU per call, in process, without Consul: ServiceClient over a FixedInstancer against a
 * raw undici call, both to one plain node:http server in a child process (so the client's own
 * CPU is what this process spends). The profiling driver of client-overhead.ts: run it under
 * `node --cpu-prof --import tsx bench/client-profile.ts` with BENCH_ONLY to profile one caller.
 *
 * Knobs: BENCH_ONLY=undici|client (one contender), BENCH_INSTANCES (1: servers, rotated over by
 * hand for undici and by round robin for the client), BENCH_ROUNDS (5), BENCH_REQUESTS (20000),
 * BENCH_CONCURRENCY (16), BENCH_TRACING=off|dropped|sampled (no provider; a provider whose
 * sampler drops every span; one that records every span into a no-op processor).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { AlwaysOffSampler, AlwaysOnSampler, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { Agent, request } from 'undici';
import { FixedInstancer, ServiceClient } from '@switchyard/infra';
import { closedLoop } from './closed-loop.js';
import { fmt, median } from './report.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const ONLY = process.env.BENCH_ONLY;
const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 1);
const TRACING = process.env.BENCH_TRACING ?? 'off';

if (TRACING !== 'off') {
  // Spans are made and ended as in a service, but exported nowhere: the client's cost alone.
  const discard: SpanProcessor = { onStart() {}, onEnd() {}, forceFlush: async () => {}, shutdown: async () => {} };
  const sampler = TRACING === 'sampled' ? new AlwaysOnSampler() : new AlwaysOffSampler();
  new NodeTracerProvider({ sampler, spanProcessors: [discard] }).register();
}

// The smallest server that answers like the echo fixture's /whoami: its CPU is not ours.
const serverCode = `
const body = Buffer.from('{"id":"bench-profile-127.0.0.1-0"}');
const server = require('node:http').createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 6000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;
const servers = Array.from({ length: INSTANCES }, () => spawn(process.execPath, ['-e', serverCode], { stdio: ['ignore', 'pipe', 'inherit'] }));
try {
  const ports = await Promise.all(servers.map(async (server) => Number(String((await once(server.stdout!, 'data'))[0]).trim())));
  const instances = ports.map((port) => ({ id: `bench-profile-127.0.0.1-${port}`, service: 'bench-profile', address: '127.0.0.1', port, tags: [], meta: {} }));
  const client = new ServiceClient('bench-profile', new FixedInstancer('bench-profile', instances));
  const agent = new Agent({ keepAliveTimeout: 4_000, connections: 64 });
  const origins = ports.map((port) => `http://127.0.0.1:${port}`);
  let turn = 0;

  const contenders: Record<string, () => Promise<unknown>> = {
    undici: async () => {
      const res = await request(`${origins[turn++ % origins.length]}/whoami`, { dispatcher: agent });
      await res.body.arrayBuffer();
    },
    client: () => client.get('/whoami'),
  };
  const chosen = Object.entries(contenders).filter(([name]) => !ONLY || name === ONLY);

  const run = (call: () => Promise<unknown>) => closedLoop(call, REQUESTS, CONCURRENCY);

  for (const [, call] of chosen) await run(call);
  const results = new Map(chosen.map(([name]) => [name, { rps: [] as number[], cpu: [] as number[], user: [] as number[] }]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, call] of chosen) {
      const { rps, cpuUs, userUs } = await run(call);
      results.get(name)!.rps.push(rps);
      results.get(name)!.cpu.push(cpuUs);
      results.get(name)!.user.push(userUs);
    }
  }
  console.log(`tracing ${TRACING}, ${INSTANCES} instance(s), ${ROUNDS} rounds of ${REQUESTS} at concurrency ${CONCURRENCY}`);
  console.log('| caller | median req/s | median client CPU µs/call | of which user |');
  for (const [name, { rps, cpu, user }] of results) {
    console.log(`| ${name} | ${fmt(median(rps), 0)} | ${fmt(median(cpu), 1)} | ${fmt(median(user), 1)} |`);
  }
  await client.close();
  await agent.close();
} finally {
  for (const server of servers) server.kill();
}
