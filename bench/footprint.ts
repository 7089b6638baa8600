/**
 * Footprint of each service: process start → registered and passing in Consul, idle resident
 * memory, and the gateway's memory under load; each with the TypeScript loader `make dev` uses
 * (`node --import tsx src/main.ts`) and compiled to JavaScript as the container image runs it
 * (`node dist/main.js`), interleaved round by round in one run.
 *
 * The compiled tree is built here with the image's own tsconfig.build.json into
 * .cache/footprint/dist, with @switchyard/* packages pointing at it (the image's dist-layout
 * step, without rewriting the repository's package.json files).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestDatabase } from '../test/support/test-database.js';
import { closedLoop } from './load.js';
import { fmt, machineLine, median, writeSection } from './report.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, '.cache', 'footprint');
const CONSUL = 'http://127.0.0.1:8500';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const ENTRIES = {
  gateway: 'gateway/src/main.ts',
  auth: 'auth/src/main.ts',
  social: 'social/src/main.ts',
  messenger: 'messenger/src/main.ts',
  rng: 'miner/src/rng/main.ts',
  hasher: 'miner/src/hasher/main.ts',
  worker: 'miner/src/worker/main.ts',
  webui: 'miner/src/webui/main.ts',
} as const;
type Service = keyof typeof ENTRIES;
type Mode = 'tsx' | 'compiled';

/** tsc with the image's config, then @switchyard/* packages whose exports point at the output. */
function compile(): void {
  rmSync(OUT, { recursive: true, force: true });
  const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--outDir', join(OUT, 'dist')], { cwd: ROOT, stdio: 'inherit' });
  if (tsc.status !== 0) throw new Error('tsc -p tsconfig.build.json failed');
  cpSync(join(ROOT, 'gateway/src/docs'), join(OUT, 'dist/gateway/src/docs'), { recursive: true, filter: (f) => !f.endsWith('.ts') });
  symlinkSync(join(ROOT, 'miner/public'), join(OUT, 'dist/miner/public'));
  const { workspaces } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] };
  for (const workspace of workspaces) {
    const manifest = JSON.parse(readFileSync(join(ROOT, workspace, 'package.json'), 'utf8')) as { name: string; exports?: unknown };
    const dir = join(OUT, 'node_modules', manifest.name);
    mkdirSync(dir, { recursive: true });
    symlinkSync(join(OUT, 'dist', workspace, 'src'), join(dir, 'dist'));
    const toDist = (value: unknown): unknown =>
      typeof value === 'string'
        ? value.replace(/^\.\/src\/(.*)\.ts$/, './dist/$1.js')
        : value && typeof value === 'object'
          ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toDist(v)]))
          : value;
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: manifest.name, type: 'module', exports: toDist(manifest.exports) }));
  }
}

function commandFor(service: Service, mode: Mode): string[] {
  const entry = ENTRIES[service];
  return mode === 'tsx' ? ['--import', 'tsx', entry] : [join(OUT, 'dist', entry.replace(/\.ts$/, '.js'))];
}

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

async function passing(name: string): Promise<string[]> {
  const response = await fetch(`${CONSUL}/v1/health/service/${name}?passing`);
  return ((await response.json()) as Array<{ Service: { ID: string } }>).map((e) => e.Service.ID);
}

interface Started {
  child: ChildProcess;
  serviceId: string;
  port: number;
  adminPort?: number;
  listeningMs: number;
  passingMs: number;
}

/** Starts one instance and waits until Consul lists it passing; times from the spawn. */
async function start(service: Service, mode: Mode, env: Record<string, string>): Promise<Started> {
  const t0 = performance.now();
  const child = spawn(process.execPath, commandFor(service, mode), {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let listening: { serviceId: string; port: number; adminPort?: number; at: number } | undefined;
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk;
    if (listening) return;
    for (const line of output.split('\n')) {
      if (!line.includes('listening on') || !line.includes('"serviceId"')) continue;
      const parsed = JSON.parse(line) as { serviceId: string; port: number; adminPort?: number };
      listening = { ...parsed, at: performance.now() };
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${service} (${mode}) exited:\n${output.slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`${service} (${mode}) not passing within 60 s:\n${output.slice(-2000)}`);
    if (listening && (await passing(`${service}${env.SERVICE_NAME_SUFFIX}`)).includes(listening.serviceId)) {
      return { child, ...listening, listeningMs: listening.at - t0, passingMs: performance.now() - t0 };
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Where the idle memory goes: RSS of a fresh Node after importing one library alone (median of 3). */
const LIBRARIES = ['', '@opentelemetry/sdk-trace-node', '@opentelemetry/exporter-trace-otlp-http', 'express', 'undici', 'mysql2/promise', 'ioredis', 'prom-client', 'zod', 'jose', 'ws', 'consul', 'pino'];
function importCosts(): string {
  const rss = (library: string) =>
    median(
      [0, 1, 2].map(() => {
        const code = `${library ? `await import(${JSON.stringify(library)});` : ''} console.log(process.memoryUsage().rss)`;
        const result = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8' });
        return Number(result.stdout.trim()) / 1024 / 1024;
      }),
    );
  const base = rss('');
  return LIBRARIES.slice(1)
    .map((library) => ({ library, extra: rss(library) - base }))
    .sort((a, b) => b.extra - a.extra)
    .map(({ library, extra }) => `${library} +${fmt(extra, 0)}`)
    .join(', ')
    .concat(` (a bare Node 24 process: ${fmt(base, 0)} MiB)`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function main(): Promise<void> {
  console.log('footprint: compiling with tsconfig.build.json');
  compile();
  const database = new TestDatabase('footprint');
  await database.migrate(['auth', 'social', 'messenger']);
  const prefix = database.redisPrefix;
  const env = (run: string): Record<string, string> => ({
    PORT: '0',
    ADMIN_PORT: '0',
    CONSUL_HTTP_ADDR: CONSUL,
    OTEL_EXPORTER_OTLP_ENDPOINT: '',
    LOG_LEVEL: 'info',
    ACCESS_LOG: 'false',
    SERVICE_NAME_SUFFIX: `-fp${run}`,
    MINER_REDIS_PREFIX: `${prefix}${run}:`,
    AUTH_REDIS_PREFIX: `${prefix}auth:`,
    SOCIAL_REDIS_PREFIX: `${prefix}social:`,
    MYSQL_URL: database.url,
    AUTH_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    RNG_DELAY_MS: '0',
  });

  type Sample = { listeningMs: number; passingMs: number; rssMiB: number };
  const samples = new Map<string, Sample[]>();
  const key = (service: Service, mode: Mode) => `${service}/${mode}`;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of (round % 2 === 0 ? ['tsx', 'compiled'] : ['compiled', 'tsx']) as Mode[]) {
        for (const service of Object.keys(ENTRIES) as Service[]) {
          const started = await start(service, mode, env(`${round}${mode[0]}`));
          // Idle: a few seconds after it passes (watchers answered, timers running, no traffic).
          await new Promise((resolve) => setTimeout(resolve, 2_000));
          const rss = rssMiB(started.child.pid!);
          await stop(started.child);
          const list = samples.get(key(service, mode)) ?? [];
          list.push({ listeningMs: started.listeningMs, passingMs: started.passingMs, rssMiB: rss });
          samples.set(key(service, mode), list);
          console.log(`round ${round} ${service} ${mode}: listening ${fmt(started.listeningMs, 0)} ms, passing ${fmt(started.passingMs, 0)} ms, idle RSS ${fmt(rss)} MiB`);
        }
      }
    }

    // The gateway under load (compiled, as deployed): 16 callers through it to one rng for 5 s.
    const loadEnv = env('load');
    const rng = await start('rng', 'compiled', loadEnv);
    const gateway = await start('gateway', 'compiled', { ...loadEnv, RATE_LIMIT_PER_MINUTE: '0', RATE_LIMIT_USER_PER_MINUTE: '0' });
    const idleRss = rssMiB(gateway.child.pid!);
    let peakRss = idleRss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMiB(gateway.child.pid!))), 100);
    const url = `http://127.0.0.1:${gateway.port}/api/v1/rng/8`;
    const window = await closedLoop(async () => (await fetch(url)).ok, 16, 5_000);
    clearInterval(sampler);
    await Promise.all([stop(gateway.child), stop(rng.child)]);

    const rows = (Object.keys(ENTRIES) as Service[]).map((service) => {
      const [tsx, compiled] = (['tsx', 'compiled'] as Mode[]).map((mode) => samples.get(key(service, mode))!);
      const m = (list: Sample[], field: keyof Sample) => median(list.map((s) => s[field]));
      const min = (list: Sample[], field: keyof Sample) => Math.min(...list.map((s) => s[field]));
      return `| ${service} | ${fmt(m(tsx!, 'passingMs'), 0)} (${fmt(min(tsx!, 'passingMs'), 0)}) | ${fmt(m(compiled!, 'passingMs'), 0)} (${fmt(min(compiled!, 'passingMs'), 0)}) | ${fmt(m(compiled!, 'listeningMs'), 0)} | ${fmt(m(tsx!, 'rssMiB'), 0)} | ${fmt(m(compiled!, 'rssMiB'), 0)} |`;
    });
    const passingCompiled = (Object.keys(ENTRIES) as Service[]).map((s) => median(samples.get(key(s, 'compiled'))!.map((x) => x.passingMs)));
    const rssCompiled = (Object.keys(ENTRIES) as Service[]).map((s) => median(samples.get(key(s, 'compiled'))!.map((x) => x.rssMiB)));
    writeSection(
      'footprint',
      `## Footprint: start → passing, and memory

Goals: process start → registered and passing in Consul ≤ 1.5 s; idle RSS ≤ 90 MB. Each service
started alone ${ROUNDS} times per mode, the two modes interleaved: \`node --import tsx src/main.ts\`
(what \`make dev\` runs) and \`node dist/main.js\` compiled by the image's tsconfig.build.json (what the
container runs). "Passing" is the first poll (every 5 ms) of Consul's health API that lists the
instance; idle RSS is read 2 s after that. Real Consul, Redis, MariaDB; tracing off.

| service | tsx: start → passing ms, median (min) | compiled: start → passing ms, median (min) | compiled: start → listening ms | tsx: idle RSS MiB | compiled: idle RSS MiB |
| --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

Compiled, start → passing: ${passingCompiled.every((v) => v <= 1_500) ? '**goal met for every service**' : `goal missed by ${(Object.keys(ENTRIES) as Service[]).filter((_, i) => passingCompiled[i]! > 1_500).join(', ')}`}
(worst median ${fmt(Math.max(...passingCompiled), 0)} ms). Idle RSS compiled: ${rssCompiled.every((v) => v <= 90) ? '**goal met for every service**' : `above 90 MB for ${(Object.keys(ENTRIES) as Service[]).filter((_, i) => rssCompiled[i]! > 90).join(', ')}`}
(largest median ${fmt(Math.max(...rssCompiled), 0)} MiB). Where it goes, MiB of RSS each library adds to a fresh
process on its own: ${importCosts()}. A service loads most of these (OpenTelemetry even with
tracing off, as the instrumentations must be registered before the clients they patch are
loaded), so ~90 MB would mean dropping libraries the platform is built on. The TypeScript loader is the difference between the
two columns: it compiles every module at start and keeps the compiler in memory, so the run path
that matters (the container) has none.

The gateway under load (compiled; 16 callers in a closed loop through it to one rng, 5 s, rate
limits off): ${fmt(window.perSecond, 0)} req/s (p99 ${fmt(window.p99Ms)} ms, ${window.failures} failed), RSS ${fmt(idleRss, 0)} MiB idle → ${fmt(peakRss, 0)} MiB peak.

${machineLine()} Command: \`npm run bench -- footprint\`.`,
    );
  } finally {
    await database.drop();
  }
}

await main();
