/**
 * process.nextTick after a full collection: what infra/src/runtime/startup-memory.ts's placement
 * and infra/src/runtime/tick-object-pin.ts buy. Each row is a fresh `node --expose-gc` process
 * that warms nextTick up, then either forces the memory-reducing full GC the services run once
 * they are up (placed three ways) or churns the old generation until V8 runs a full GC of its
 * own, with or without a tick object pinned, and times 1 M nextTick calls after it (median of 3
 * batches). Rows are interleaved over BENCH_ROUNDS rounds; min and median per row. Run:
 * npm run bench -- next-tick-after-gc
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
  none: 'no full collection',
  'promise-reaction': 'forced from a promise reaction (where the services ran it until 2026-11-27)',
  'release-startup-memory': 'forced by releaseStartupMemory (inside a nextTick callback)',
  'promise-reaction-pinned': 'forced from a promise reaction, a tick object pinned (pinTickObjectShape: every service since 2026-11-27)',
  'own-full-gc': "V8's own full collection (old-generation churn from a promise reaction, until one ran)",
  'own-full-gc-pinned': "V8's own full collection, a tick object pinned",
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
  const { pinTickObjectShape } = await import('../infra/src/runtime/tick-object-pin.js');
  if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');
  if (where.endsWith('-pinned')) pinTickObjectShape();
  for (let i = 0; i < 3; i++) await ticks(CALLS); // warm: nextTick optimised, as in a service that has been serving
  if (where.startsWith('promise-reaction')) await Promise.resolve().then(() => collectNow());
  if (where === 'release-startup-memory') await new Promise<unknown>((resolve) => releaseStartupMemory(resolve));
  if (where.startsWith('own-full-gc')) await churnUntilFullCollection();
  const after: number[] = [];
  for (let i = 0; i < 3; i++) after.push(await ticks(CALLS));
  console.log(JSON.stringify({ nsPerCall: median(after) }));
}

/**
 * Fills the old generation with objects that then die, from a promise reaction (no tick object
 * alive), until V8 itself runs a full (mark-compact) collection, as it does in a service whose
 * old generation grows.
 */
async function churnUntilFullCollection(): Promise<void> {
  const { PerformanceObserver, constants } = await import('node:perf_hooks');
  let full = false;
  const observer = new PerformanceObserver((list) => {
    if (list.getEntries().some((entry) => ((entry as { detail?: { kind?: number } }).detail)?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)) full = true;
  });
  observer.observe({ entryTypes: ['gc'] });
  for (let round = 0; round < 200 && !full; round++) {
    await Promise.resolve().then(() => {
      let held: Array<{ i: number; text: string }> = [];
      for (let i = 0; i < 200_000; i++) held.push({ i, text: `x${i}` });
      held = [];
      return held.length;
    });
    // The observer reports on a later turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
  }
  observer.disconnect();
  if (!full) throw new Error('V8 ran no full collection');
}

async function orchestrate(): Promise<void> {
  const results = Object.fromEntries(Object.keys(PLACEMENTS).map((where) => [where, []])) as unknown as Record<Placement, number[]>;
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
  const markdown = `## process.nextTick after a full collection

A memory-reducing full collection forced with no tick object alive (the one each service runs
once registered: \`--expose-gc\` in the image, infra/src/runtime/startup-memory.ts) left node's
\`process.nextTick\` many times slower for the rest of the process: V8 forgot the hidden classes
of the tick object's symbol-keyed literal and built every later one through its runtime
(\`Runtime_DefineKeyedOwnPropertyInLiteral\`). Running it inside a nextTick callback took most
of that back; every service now also holds one tick object for its whole life
(infra/src/runtime/tick-object-pin.ts), which takes all of it back wherever the collection runs
(row 4 against row 2). V8's own full collections, after old-generation churn (last two rows),
cost from nothing measurable to ~1.7× over this bench's runs on this machine, pinned or not: no
consistent effect of the pin there, and nothing done about it.
Each row: a fresh \`node --expose-gc\` process, nextTick warmed up, the collection, then
${CALLS / 1e6} M calls (median of 3 batches); ${ROUNDS} interleaved rounds, min and median. In the
gateway the forced case cost ~70 000 instructions per proxied request (section "Gateway hop").

| collection | min ns per nextTick | median ns per nextTick | median vs no collection |
| --- | --- | --- | --- |
${rows.join('\n')}

${machineLine()} Command: \`npm run bench -- next-tick-after-gc\` (BENCH_ROUNDS).`;
  console.log(markdown);
  writeSection('next-tick-after-gc', markdown);
}
