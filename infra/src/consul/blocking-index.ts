/**
 * What the `X-Consul-Index` of one blocking-query answer tells the watcher to do next.
 * - `advance`: a sane index, not behind the previous one: block on it next.
 * - `reset`: the index went backwards (agent restart, snapshot restore). Waiting on a future
 *   index that will not come would freeze the list (go-kit's "stale index" bug): the answer is
 *   current, so take it, and ask once with index 0 for the agent's present index.
 * - `insane`: missing, not a number, or <= 0. Echoing such a value back (or 1, as this file did
 *   before) makes Consul answer at once, and the loop spins. go-kit treats it as an error:
 *   keep the list, back off, and retry with index 0.
 */
export type IndexStep = { kind: 'advance'; index: number } | { kind: 'reset' } | { kind: 'insane' };

export function nextIndex(previous: number, received: string | number | undefined | null): IndexStep {
  const value = typeof received === 'string' && /^\s*\d+\s*$/.test(received) ? Number(received) : received;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) return { kind: 'insane' };
  if (value < previous) return { kind: 'reset' };
  return { kind: 'advance', index: value };
}

/**
 * True when a response at `index` may carry news: the first answer, or any index change.
 * An equal index means the blocking query merely timed out (the "safety refresh").
 */
export function isNewIndex(previous: number, index: number): boolean {
  return previous === 0 || index !== previous;
}
