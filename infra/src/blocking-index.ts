/**
 * Consul blocking-query index bookkeeping, following Consul's own guidance:
 * - an index that is missing, not a number or <= 0 restarts from 0 (a plain, non-blocking read),
 *   so a bad header can never make us spin on `index=0`-style immediate returns forever;
 * - an index that goes backwards (agent restart, snapshot restore) resets to 0 instead of
 *   waiting on a future that will not come (go-kit's "stale index" bug).
 */
export function nextIndex(previous: number, received: string | number | undefined | null): number {
  const value = typeof received === 'string' ? Number(received) : received;
  if (value === undefined || value === null || !Number.isFinite(value) || value <= 0) return 0;
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
