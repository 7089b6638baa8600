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
 *
 * Where the collection runs matters, and it runs inside a `process.nextTick` callback. Forced
 * from a promise reaction or the top level, with no tick object alive, it left node's
 * `process.nextTick` six times slower for the rest of the process (62 → 375 ns per call, Node
 * 24): every tick object was then built through V8's runtime (the symbol-keyed properties of its
 * object literal, `Runtime_DefineKeyedOwnPropertyInLiteral`), which cost the gateway ~70 000
 * instructions per proxied request, ~17 % (BENCHMARKS.md, "Gateway hop"). With a tick object alive
 * during the collection, as inside a tick's callback, nextTick keeps most of its speed, and all of
 * it with the tick object every service holds for good (tick-object-pin.ts). bench/next-tick-after-gc.ts
 * measures the placements side by side.
 */

/**
 * Collects, from inside a tick (see above), and reports the pause in ms to `done`; undefined
 * when `gc` is not exposed (no `--expose-gc`), without collecting.
 */
export function releaseStartupMemory(done: (pauseMs: number | undefined) => void = noop): void {
  process.nextTick(() => done(collectNow()));
}

/** The collection itself, wherever it is called from; releaseStartupMemory is what services use. */
export function collectNow(): number | undefined {
  const gc = globalThis.gc;
  if (typeof gc !== 'function') return undefined;
  const started = performance.now();
  // 'last-resort' is V8's CollectAllAvailableGarbage: full GCs until nothing more is freed,
  // compacting the old generation and shrinking the young one, as under memory pressure. A
  // regular major GC frees the same objects but keeps the pages and semi-spaces committed.
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  return performance.now() - started;
}

function noop(): void {}
