/**
 * Open-loop arithmetic: request `index` is due `index / rps` seconds after the start, whether the
 * earlier ones have answered or not. Latency is measured from that due time, not from when the
 * request actually left, so a stalled server (or a stalled load generator) shows up in the
 * percentiles instead of silently slowing the offered load (coordinated omission).
 */

/** When request `index` is due, in ms after the start. */
export function dueAtMs(index: number, rps: number): number {
  return (index * 1000) / rps;
}

/** How many requests are due by `elapsedMs` (index 0 is due at 0), capped at `total`. */
export function dueBy(elapsedMs: number, rps: number, total: number): number {
  if (elapsedMs < 0) return 0;
  return Math.min(total, Math.floor((elapsedMs * rps) / 1000) + 1);
}

/** Requests a run of `durationMs` at `rps` sends: the ones due strictly before the end. */
export function totalRequests(rps: number, durationMs: number): number {
  return Math.ceil((rps * durationMs) / 1000);
}

/** How long to sleep before request `next` is due (never negative). */
export function sleepUntilDueMs(next: number, rps: number, elapsedMs: number): number {
  return Math.max(0, dueAtMs(next, rps) - elapsedMs);
}
