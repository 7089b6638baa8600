/**
 * Consul blocking-query index bookkeeping, following Consul's own guidance:
 * - an index that is missing, not a number or <= 0 becomes 1, never 0: `index=0` is a plain,
 *   non-blocking read, so a loop fed a bad header would otherwise spin on immediate answers
 *   (Consul: "sanity check index is greater than zero ... reset the index to 1");
 * - an index that goes backwards (agent restart, snapshot restore) resets to 0 instead of
 *   waiting on a future that will not come (go-kit's "stale index" bug): one plain read then
 *   returns the agent's current index.
 */
export function nextIndex(previous: number, received: string | number | undefined | null): number {
  const value = typeof received === 'string' && received.trim() !== '' ? Number(received) : received;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return 1;
  if (value < previous) return 0;
  return value;
}

/**
 * True when a response at `index` may carry news: the first answer, or any index change.
 * An equal index means the blocking query merely timed out (the "safety refresh").
 */
export function isNewIndex(previous: number, index: number): boolean {
  return previous === 0 || index !== previous;
}
