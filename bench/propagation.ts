/**
 * Propagation: how long from "an instance is registered passing in Consul" to "the watcher's list
 * has it", and from deregistration to removal. The watcher's safety refresh is set to 300 s, so
 * only the blocking query can explain a fast update. Run: npm run bench -- propagation
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig, type Instance } from '@switchyard/infra';
import { Registrar, Watcher, consulConnection, createConsulClient } from '@switchyard/infra/discovery';
import { fmt, machineLine, median, percentile, writeSection } from './report.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);
const consul = createConsulClient(consulConnection(loadConfig()));
const service = `bench-propagation-${process.pid}`;

// A real HTTP endpoint for the instance's health check to poll.
const health = createServer((_req, res) => res.end('ok')).listen(0, '127.0.0.1');
await new Promise((resolve) => health.once('listening', resolve));
const port = (health.address() as AddressInfo).port;

const watcher = new Watcher({ consul, service, waitSeconds: 300 }).start();
await watcher.ready();

function until(predicate: (list: readonly Instance[]) => boolean): Promise<number> {
  return new Promise((resolve) => {
    const unsubscribe = watcher.subscribe((list: readonly Instance[]) => {
      if (!predicate(list)) return;
      unsubscribe();
      resolve(performance.now());
    });
  });
}

const added: number[] = [];
const removed: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const id = `${service}-${round}`;
  const registrar = new Registrar({ id, name: service, address: '127.0.0.1', port }, { consul, heartbeatMs: 60_000 });
  const seen = until((list) => list.some((i) => i.id === id));
  const t0 = performance.now();
  await registrar.start();
  added.push((await seen) - t0);
  const gone = until((list) => !list.some((i) => i.id === id));
  const t1 = performance.now();
  await registrar.deregister();
  removed.push((await gone) - t1);
}
await watcher.stop();
health.close();

const row = (label: string, values: number[]) =>
  `| ${label} | ${fmt(Math.min(...values))} | ${fmt(median(values))} | ${fmt(percentile(values, 90))} | ${fmt(Math.max(...values))} | ${fmt(10_000 / median(values), 0)}× |`;
const table = [
  '| event → watcher update (ms) | min | median | p90 | max | faster than a 10 s poll (median) |',
  '| --- | --- | --- | --- | --- | --- |',
  row('registered passing → in the list', added),
  row('deregistered → out of the list', removed),
].join('\n');
console.log(table);
writeSection(
  'propagation',
  `## Propagation: Consul change → watcher update

Goal: median ≤ 250 ms (the systems we learn from poll every 10–35 s). ${ROUNDS} rounds; the watcher's
blocking-query wait is 300 s, so every update below came from a blocking query returning, not a poll.
The time includes the registration's own HTTP round trip to the agent.

${table}

${machineLine()} Command: \`npm run bench -- propagation\`.`,
);
process.exit(0);
