/**
 * Keeps `process.nextTick` fast after the start-up collection, wherever that runs.
 *
 * Node builds each tick object from an object literal with symbol keys (its async ids, Node 24's
 * async context frame). V8 keeps what it learned about that literal (the object's hidden
 * classes) only weakly: a memory-reducing full collection that finds no tick object alive (the
 * one startup-memory.ts forces) forgets it, and from then on every tick object is built through
 * V8's runtime (`Runtime_DefineKeyedOwnPropertyInLiteral`), many times slower per nextTick for
 * the rest of the process (BENCHMARKS.md, "process.nextTick after a full collection"); a proxied
 * request makes a dozen nextTick calls in node's streams and http. Running the collection inside
 * a tick took most of that back (1.05-1.7× against 5-11× over the bench's runs); holding one tick
 * object for good takes all of it back, and keeps any later collection of that kind from doing
 * the same.
 *
 * The tick object is caught once, at start, by an async hook enabled around a single nextTick and
 * disabled at once (async hooks cost while enabled; nothing stays enabled).
 */
import { createHook } from 'node:async_hooks';

let pinned: object | undefined;

/** Holds one tick object for the life of the process (idempotent). */
export function pinTickObjectShape(): void {
  if (pinned) return;
  const hook = createHook({
    init(_asyncId, type, _triggerAsyncId, resource) {
      if (type === 'TickObject') pinned ??= resource;
    },
  });
  hook.enable();
  try {
    process.nextTick(noop);
  } finally {
    hook.disable();
  }
}

/** The tick object held, once pinTickObjectShape ran (for its test). */
export function pinnedTickObject(): object | undefined {
  return pinned;
}

function noop(): void {}
