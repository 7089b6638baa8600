/**
 * What start-up leaves behind, handed back once. Loading a service's modules fills V8's heap
 * with garbage (parsed sources, the loaders' bookkeeping) and grows the young generation to its
 * cap; an idle process keeps all of it committed until V8's memory reducer gets round to it
 * (minutes). One memory-reducing full GC once the instance is up takes the heap down to its
 * live size at once: 9-17 MiB of RSS (BENCHMARKS.md, "Footprint"), a single pause of tens
 * of milliseconds.
 *
 * It needs V8's `gc` function, which only `--expose-gc` provides: the image sets it in its
 * NODE_OPTIONS (Dockerfile), and nothing else in the code base calls `gc`. Without the flag
 * (`make dev`, the tests) this is a no-op and V8 reclaims that memory on its own schedule.
 */

/** The pause, ms, or undefined when `gc` is not exposed (no `--expose-gc`). */
export function releaseStartupMemory(): number | undefined {
  const gc = globalThis.gc;
  if (typeof gc !== 'function') return undefined;
  const started = performance.now();
  // 'last-resort' is V8's CollectAllAvailableGarbage: full GCs until nothing more is freed,
  // compacting the old generation and shrinking the young one, as under memory pressure. A
  // regular major GC frees the same objects but keeps the pages and semi-spaces committed.
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  return performance.now() - started;
}
