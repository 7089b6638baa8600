/**
 * What a run saw, kept as counts (the Tally) and turned into the final report (summarize) and
 * its table (formatTable). Pure: the driver feeds outcomes in, tests feed them in by hand.
 */
import { Histogram } from './histogram.js';

/** One request's end: an HTTP answer (any status), or a transport failure with its reason. */
export type Outcome =
  | { kind: 'answer'; status: number; servedBy: string | undefined; latencyMs: number }
  | { kind: 'failure'; reason: string; latencyMs: number };

export class Tally {
  readonly latency = new Histogram();
  readonly byStatus = new Map<number, number>();
  readonly byReason = new Map<string, number>();
  readonly byServedBy = new Map<string, number>();
  requests = 0;
  errors = 0;

  add(outcome: Outcome): void {
    this.requests += 1;
    this.latency.record(outcome.latencyMs);
    if (outcome.kind === 'failure') {
      this.errors += 1;
      increment(this.byReason, outcome.reason);
      return;
    }
    increment(this.byStatus, outcome.status);
    if (outcome.status >= 400) this.errors += 1;
    // Every answer counts toward the shares, refused ones too: a 503 from one instance is balancing made visible.
    increment(this.byServedBy, outcome.servedBy ?? '(none)');
  }
}

function increment<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** Sorts a failure into the reasons a reader acts on. */
export function failureReason(error: unknown): string {
  const code = (error as { code?: string } | undefined)?.code ?? '';
  if (/TIMEOUT/.test(code)) return 'timeout';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') return 'reset';
  if (code === 'ECONNREFUSED') return 'refused';
  if (code === 'UND_ERR_ABORTED') return 'aborted';
  return code || (error instanceof Error ? error.name : 'error');
}

export interface Summary {
  target: string;
  method: string;
  mode: 'open' | 'closed';
  /** Offered rate (open loop only). */
  rps: number | null;
  connections: number;
  durationS: number;
  requests: number;
  reqPerS: number;
  errors: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  statuses: Record<string, number>;
  errorReasons: Record<string, number>;
  /** Instance id → { count, share 0..1 }, busiest first. */
  servedBy: Record<string, { count: number; share: number }>;
  /** Open loop: requests never sent because `maxInFlight` were already waiting (the generator's own limit). */
  notSent: number;
}

export interface RunFacts {
  target: string;
  method: string;
  rps: number | null;
  connections: number;
  elapsedMs: number;
  notSent?: number;
}

export function summarize(tally: Tally, facts: RunFacts): Summary {
  const answered = [...tally.byServedBy.values()].reduce((a, b) => a + b, 0);
  const servedBy = Object.fromEntries(
    [...tally.byServedBy.entries()].sort((a, b) => b[1] - a[1]).map(([id, count]) => [id, { count, share: answered ? count / answered : 0 }]),
  );
  const h = tally.latency;
  return {
    target: facts.target,
    method: facts.method,
    mode: facts.rps ? 'open' : 'closed',
    rps: facts.rps,
    connections: facts.connections,
    durationS: round(facts.elapsedMs / 1000, 3),
    requests: tally.requests,
    reqPerS: round(facts.elapsedMs > 0 ? (tally.requests * 1000) / facts.elapsedMs : 0, 1),
    errors: tally.errors + (facts.notSent ?? 0),
    latencyMs: { p50: round(h.percentile(50), 3), p90: round(h.percentile(90), 3), p99: round(h.percentile(99), 3), max: round(h.max, 3), mean: round(h.mean(), 3) },
    statuses: Object.fromEntries([...tally.byStatus.entries()].sort((a, b) => a[0] - b[0]).map(([s, n]) => [String(s), n])),
    errorReasons: Object.fromEntries([...tally.byReason.entries()].sort((a, b) => b[1] - a[1])),
    servedBy,
    notSent: facts.notSent ?? 0,
  };
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Milliseconds for a reader: µs below 1 ms, seconds past 10 s. */
export function formatMs(ms: number): string {
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
}

export function formatTable(s: Summary): string {
  const rows: Array<[string, string]> = [
    ['target', `${s.method} ${s.target}`],
    ['load', s.mode === 'open' ? `open loop, ${s.rps} req/s offered, ≤ ${s.connections} connections` : `closed loop, ${s.connections} connections`],
    ['duration', `${s.durationS.toFixed(1)} s`],
    ['requests', String(s.requests)],
    ['req/s', s.reqPerS.toFixed(1)],
    ['latency p50 / p90 / p99 / max', [s.latencyMs.p50, s.latencyMs.p90, s.latencyMs.p99, s.latencyMs.max].map(formatMs).join(' / ')],
    ['errors', s.errors ? `${s.errors} (${((100 * s.errors) / Math.max(1, s.requests + s.notSent)).toFixed(1)} %)` : '0'],
  ];
  const lines = rows.map(([k, v]) => `  ${k.padEnd(30)} ${v}`);
  const statuses = Object.entries(s.statuses);
  if (statuses.length) lines.push('', '  status        count', ...statuses.map(([code, n]) => `  ${code.padEnd(13)} ${n}`));
  const reasons = Object.entries(s.errorReasons);
  if (s.notSent) reasons.push(['not sent (generator queue full)', s.notSent]);
  if (reasons.length) lines.push('', '  failure       count', ...reasons.map(([why, n]) => `  ${why.padEnd(13)} ${n}`));
  const served = Object.entries(s.servedBy);
  if (served.length) {
    const width = Math.max(12, ...served.map(([id]) => id.length));
    lines.push('', `  ${'x-served-by'.padEnd(width)}  count     share`);
    for (const [id, { count, share }] of served) {
      lines.push(`  ${id.padEnd(width)}  ${String(count).padEnd(8)}  ${(share * 100).toFixed(1).padStart(5)} %  ${bar(share)}`);
    }
  }
  return lines.join('\n');
}

function bar(share: number, width = 20): string {
  return '█'.repeat(Math.round(share * width));
}
