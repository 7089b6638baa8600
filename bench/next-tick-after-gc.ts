/**
 * process.nextTick after the start-up collection: what infra/src/runtime/startup-memory.ts's
 * placement buys. Each row is a fresh `node --expose-gc` process that warms nextTick up, then
 * forces the same memory-reducing full GC the services run once they are up, placed three ways,
 * and times 1 M nextTick calls after it (median of 3 batches). Rows are interleaved over
 * BENCH_ROUNDS rounds; min and median per row. Run: npm run bench -- next-tick-after-gc
 *
 * This file is also each row's process: `next-tick-after-gc.ts <placement>`.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fmt, machineLine, median, writeSection } from './report.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CALLS = 1_000_000;
const SELF = fileURLToPath(import.meta.url);

const PLACEMENTS = {
  none: 'no forced collection',
  'promise-reaction': 'collected from a promise reaction (where the services ran it before)',
  'release-startup-memory': "collected by releaseStartupMemory (inside a nextTick callback: today's services)",
} as const;
type Placement = keyof typeof PLACEMENTS;

const placement = process.argv[2] as Placement | undefined;
if (placement) await measure(placement);
else await orchestrate();

/** One chain of `calls` nextTicks, each scheduling the next; ns per call. */
function ticks(calls: number): Promise<number> {
  return new Promise((resolve) => {
    let left = calls;
    const started = process.hrtime.bigint();
    const tick = () => (--left > 0 ? process.nextTick(tick) : resolve(Number(process.hrtime.bigint() - started) / calls));
    process.nextTick(tick);
  });
}

async function measure(where: Placement): Promise<void> {
  const { collectNow, releaseStartupMemory } = await import('../infra/src/runtime/startup-memory.js');
  if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');
  for (let i = 0; i < 3; i++) await ticks(CALLS); // warm: nextTick optimised, as in a service that has been serving
  if (where === 'promise-reaction') await Promise.resolve().then(() => collectNow());
  if (where === 'release-startup-memory') await new Promise<unknown>((resolve) => releaseStartupMemory(resolve));
  const after: number[] = [];
  for (let i = 0; i < 3; i++) after.push(await ticks(CALLS));
  console.log(JSON.stringify({ nsPerCall: median(after) }));
}

async function orchestrate(): Promise<void> {
  const results: Record<Placement, number[]> = { none: [], 'promise-reaction': [], 'release-startup-memory': [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const where of Object.keys(PLACEMENTS) as Placement[]) {
      const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', SELF, where], { encoding: 'utf8' });
      if (child.status !== 0) throw new Error(`${where} failed: ${child.stderr}`);
      results[where].push((JSON.parse(child.stdout.trim().split('\n').at(-1)!) as { nsPerCall: number }).nsPerCall);
    }
  }
  const base = median(results.none);
  const rows = (Object.keys(PLACEMENTS) as Placement[]).map(
    (where) => `| ${PLACEMENTS[where]} | ${fmt(Math.min(...results[where]))} | ${fmt(median(results[where]))} | ${fmt(median(results[where]) / base, 2)}× |`,
  );
  const markdown = `## process.nextTick after the start-up collection

Each service forces one memory-reducing full GC once it is registered (\`--expose-gc\` in the
image; infra/src/runtime/startup-memory.ts). Forced with no tick object alive, it left node's
\`process.nextTick\` several times slower for the rest of the process: V8 built every tick
object's symbol-keyed literal through its runtime from then on. Inside a nextTick callback, as
\`releaseStartupMemory\` runs it now, nextTick keeps its speed. Each row: a fresh
\`node --expose-gc\` process, nextTick warmed up, the collection, then ${CALLS / 1e6} M calls (median of
3 batches); ${ROUNDS} interleaved rounds, min and median. In the gateway the old placement cost
~70 000 instructions per proxied request (section "Gateway hop").

| placement | min ns per nextTick | median ns per nextTick | median vs no collection |
| --- | --- | --- | --- |
${rows.join('\n')}

${machineLine()} Command: \`npm run bench -- next-tick-after-gc\` (BENCH_ROUNDS).`;
  console.log(markdown);
  writeSection('next-tick-after-gc', markdown);
}
