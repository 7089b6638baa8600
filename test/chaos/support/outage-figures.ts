/**
 * Figures of a store outage read from a MixedLoad's outcomes (scenarios 6 and 7): what failed per
 * kind of request and how (status, code, how long the failing answer took), and when each kind
 * answered successfully again once the store was back.
 */
import { waitFor } from '../../support/wait.js';
import type { LoadKind, MixedLoad, Outcome } from './mixed-load.js';

/** When an outcome's answer arrived (ms since the epoch). */
export const answeredAt = (o: Outcome): number => o.at + o.latencyMs;

/** Failed requests per kind (every kind of the load listed, 0 when none failed). */
export function failedPerKind(outcomes: readonly Outcome[], kinds: readonly LoadKind[]): Record<LoadKind, number> {
  const counts = Object.fromEntries(kinds.map((kind) => [kind, 0])) as Record<LoadKind, number>;
  for (const o of outcomes) if (!o.ok) counts[o.kind] = (counts[o.kind] ?? 0) + 1;
  return counts;
}

export interface FailingAnswers {
  count: number;
  /** The slowest failing answer (ms): how long a caller waited to learn the route is down. */
  maxLatencyMs: number;
  /** `status code` of each failure, counted: `503 dependency_unavailable`, `0 timeout`... */
  codes: Record<string, number>;
  /** Failures that were not a 503 with a JSON error code (a timeout, a 500, a non-JSON body). */
  notClean: number;
}

/** How the failures of `kinds` among `outcomes` were answered. */
export function failingAnswers(outcomes: readonly Outcome[], kinds: readonly LoadKind[]): FailingAnswers {
  const failures = outcomes.filter((o) => !o.ok && kinds.includes(o.kind));
  const codes: Record<string, number> = {};
  for (const f of failures) codes[`${f.status} ${f.reason ?? ''}`.trim()] = (codes[`${f.status} ${f.reason ?? ''}`.trim()] ?? 0) + 1;
  return {
    count: failures.length,
    maxLatencyMs: Math.round(failures.reduce((max, f) => Math.max(max, f.latencyMs), 0)),
    codes,
    notClean: failures.filter((f) => f.status !== 503 || !f.reason || f.reason === 'no_json').length,
  };
}

/**
 * Waits until a request of `kind` answered successfully after `since`, and returns how long after
 * `since` that answer came (ms).
 */
export async function firstSuccessAfter(load: MixedLoad, kind: LoadKind, since: number, timeoutMs = 30_000): Promise<number> {
  const first = await waitFor(
    `a successful ${kind} after the store came back`,
    () => load.outcomes.find((o) => o.kind === kind && o.ok && answeredAt(o) >= since),
    { timeoutMs, intervalMs: 20 },
  );
  return Math.round(answeredAt(first) - since);
}

/** From `since` to the last failed answer of `kind` (0 when none failed after it). */
export function lastFailureAfter(outcomes: readonly Outcome[], kind: LoadKind, since: number): number {
  const last = outcomes.filter((o) => o.kind === kind && !o.ok && answeredAt(o) >= since).reduce((max, o) => Math.max(max, answeredAt(o)), since);
  return Math.round(last - since);
}
