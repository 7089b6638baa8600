import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The process-wide Prometheus registry and the instruments every service shares. Instruments are
 * module singletons: creating them twice in one process would be a registration error.
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });

/** Upper bounds (seconds) of every latency histogram's buckets; the upstreams view sends them once. */
export const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Series holding counts not yet handed to prom-client (UpstreamInstanceMetrics, the server's
 * RouteSeries): hot paths add to plain numbers, and every read of an instrument (a scrape, the
 * upstreams view, a test) first publishes them.
 */
export interface Unpublished {
  publish(): void;
}
const unpublished: Unpublished[] = [];

/** Queues `series` for the next read (each series queues itself once until it is published). */
export function publishOnRead(series: Unpublished): void {
  unpublished.push(series);
}

function publishPending(): void {
  for (const series of unpublished.splice(0)) series.publish();
}

/** The index in latencyBuckets of the first bound holding `seconds` (prom-client's `le`); length when past the last. */
export function latencyBucketOf(seconds: number): number {
  let bucket = 0;
  while (bucket < latencyBuckets.length && seconds > latencyBuckets[bucket]!) bucket++;
  return bucket;
}

export const httpServerRequests = new Counter({
  name: 'switchyard_http_server_requests_total',
  help: 'Requests served, by route and status code',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [metricsRegistry],
  collect: publishPending,
});

export const httpServerDuration = new Histogram({
  name: 'switchyard_http_server_duration_seconds',
  help: 'Time to serve a request, by route',
  labelNames: ['method', 'route'] as const,
  buckets: latencyBuckets,
  registers: [metricsRegistry],
  collect: publishPending,
});

/** Every outcome label of upstreamRequests. */
export const UPSTREAM_OUTCOMES = [
  'ok',
  'client_error',
  'server_error',
  'timeout',
  'connection_error',
  'breaker_open',
  'cancelled',
  'pool_exhausted',
  'response_too_large',
] as const;

export type UpstreamOutcome = (typeof UPSTREAM_OUTCOMES)[number];

export const upstreamRequests = new Counter({
  name: 'switchyard_upstream_requests_total',
  help: 'Calls to an upstream instance, by outcome (ok, client_error, server_error by answer status; timeout, connection_error, cancelled, pool_exhausted, response_too_large; breaker_open)',
  labelNames: ['service', 'instance', 'outcome'] as const,
  registers: [metricsRegistry],
  // Every read (a scrape, the upstreams view, a test) first takes in the counts kept per instance.
  collect: publishPending,
});

export const upstreamDuration = new Histogram({
  name: 'switchyard_upstream_duration_seconds',
  help: 'Latency of attempts on an upstream instance: to the whole answer when buffered, to its headers when streamed or upgraded',
  labelNames: ['service', 'instance'] as const,
  buckets: latencyBuckets,
  registers: [metricsRegistry],
  collect: publishPending,
});

export const upstreamRetries = new Counter({
  name: 'switchyard_upstream_retries_total',
  help: 'Attempts retried on another instance, and retries refused by the retry budget',
  labelNames: ['service', 'result'] as const,
  registers: [metricsRegistry],
});

export const noHealthyInstanceCalls = new Counter({
  name: 'switchyard_upstream_no_healthy_instance_total',
  help: 'Calls that found no passing instance with a closed breaker',
  labelNames: ['service'] as const,
  registers: [metricsRegistry],
});

export const upstreamFallbacks = new Counter({
  name: 'switchyard_upstream_fallbacks_total',
  help: 'Calls answered by the caller-supplied fallback',
  labelNames: ['service'] as const,
  registers: [metricsRegistry],
});

export const breakerState = new Gauge({
  name: 'switchyard_upstream_breaker_state',
  help: 'Circuit breaker per upstream instance: 0 closed, 1 half-open, 2 open',
  labelNames: ['service', 'instance'] as const,
  registers: [metricsRegistry],
});

export const healthyInstancesGauge = new Gauge({
  name: 'switchyard_watcher_healthy_instances',
  help: 'Passing instances of a watched service, as last seen in Consul',
  labelNames: ['service'] as const,
  registers: [metricsRegistry],
});

/**
 * Drops the series of an upstream instance that left the passing list. Instances come and go
 * with ephemeral ports, so keeping every one would grow the registry without bound.
 */
export function forgetUpstreamInstance(service: string, instance: string): void {
  for (const outcome of UPSTREAM_OUTCOMES) upstreamRequests.remove({ service, instance, outcome });
  upstreamDuration.remove({ service, instance });
}

/** Live UpstreamInstanceMetrics per (service, instance): a series goes when the last one retires. */
const holders = new Map<string, number>();

const OUTCOME_INDEX = Object.fromEntries(UPSTREAM_OUTCOMES.map((outcome, i) => [outcome, i])) as Record<UpstreamOutcome, number>;

/**
 * The upstream instruments of one instance, bound once to its (service, instance) labels: an
 * attempt adds to plain numbers here instead of handing prom-client a labels object to validate
 * and hash, twice, on every call (its largest metrics cost; see BENCHMARKS.md, "Client
 * overhead"). What was counted reaches upstreamRequests and upstreamDuration whenever either is
 * read (their collect hook): a scrape, the upstreams view, a test.
 */
export class UpstreamInstanceMetrics {
  private readonly labels: { service: string; instance: string };
  /** Counts per outcome (UPSTREAM_OUTCOMES order) since the last read. */
  private readonly outcomes = new Float64Array(UPSTREAM_OUTCOMES.length);
  /** Latencies since the last read: per bucket of latencyBuckets (not cumulative), count and sum. */
  private readonly buckets = new Float64Array(latencyBuckets.length);
  private observed = 0;
  private observedSeconds = 0;
  private listed = false;
  private retired = false;

  constructor(service: string, instance: string) {
    this.labels = { service, instance };
    holders.set(this.key, (holders.get(this.key) ?? 0) + 1);
  }

  private get key(): string {
    return `${this.labels.service}\n${this.labels.instance}`;
  }

  count(outcome: UpstreamOutcome): void {
    if (this.retired) return;
    this.outcomes[OUTCOME_INDEX[outcome]]! += 1;
    this.list();
  }

  /** One attempt's latency, in seconds. */
  observe(seconds: number): void {
    if (this.retired) return;
    // Past the last bound, only the count and sum (+Inf).
    const bucket = latencyBucketOf(seconds);
    if (bucket < latencyBuckets.length) this.buckets[bucket]! += 1;
    this.observed += 1;
    this.observedSeconds += seconds;
    this.list();
  }

  /** Adds what was counted since the last read to the instruments. */
  publish(): void {
    this.listed = false;
    if (this.retired) return;
    for (let i = 0; i < UPSTREAM_OUTCOMES.length; i++) {
      const count = this.outcomes[i]!;
      if (count === 0) continue;
      this.outcomes[i] = 0;
      upstreamRequests.inc({ ...this.labels, outcome: UPSTREAM_OUTCOMES[i]! }, count);
    }
    if (this.observed === 0) return;
    addToHistogram(upstreamDuration, this.labels, this.buckets, this.observed, this.observedSeconds);
    this.observed = 0;
    this.observedSeconds = 0;
  }

  /**
   * The instance left: nothing it counts any more is recorded, and its series are dropped once no
   * other holder of the same series is left (another client of the service in this process, or
   * the instance back in the list with a new entry).
   */
  retire(): void {
    if (this.retired) return;
    // What it counted since the last read belongs to the series, which another holder may keep.
    this.publish();
    this.retired = true;
    const left = (holders.get(this.key) ?? 1) - 1;
    if (left > 0) return void holders.set(this.key, left);
    holders.delete(this.key);
    forgetUpstreamInstance(this.labels.service, this.labels.instance);
  }

  /**
   * retire() after `graceMs`: an instance that left keeps its series for a while, so the next
   * scrape (and the balancing page) still sees its last counts, the failures that made it leave
   * among them, instead of those vanishing between two scrapes.
   */
  retireAfter(graceMs: number): void {
    setTimeout(() => this.retire(), graceMs).unref();
  }

  private list(): void {
    if (this.listed) return;
    this.listed = true;
    publishOnRead(this);
  }
}

/**
 * prom-client's record of one histogram series, the one its observe() adds to (per bucket,
 * not cumulative). Not part of its typed API: infra/src/client/instance-metrics.test.ts checks
 * that what is added here is what the histogram reports.
 */
interface HistogramRecord {
  labels: Record<string, string | number>;
  bucketValues: Record<number, number>;
  sum: number;
  count: number;
}

/**
 * Adds latencies counted elsewhere to `histogram`'s series for `labels`: `buckets` per bound of
 * latencyBuckets (not cumulative; zeroed here), their count and their sum in seconds.
 */
export function addToHistogram(histogram: Histogram<string>, labels: Record<string, string>, buckets: Float64Array, count: number, sum: number): void {
  const record = histogramRecord(histogram, labels);
  record.count += count;
  record.sum += sum;
  for (let i = 0; i < latencyBuckets.length; i++) record.bucketValues[latencyBuckets[i]!]! += buckets[i]!;
  buckets.fill(0);
}

/** The record of `labels` in `histogram`, made (all zero, by its public zero()) if it has none yet. */
function histogramRecord(histogram: Histogram<string>, labels: Record<string, string>): HistogramRecord {
  const find = () => {
    const records = (histogram as unknown as { hashMap: Record<string, HistogramRecord> }).hashMap;
    for (const key in records) {
      const record = records[key]!;
      if (Object.keys(labels).every((name) => record.labels[name] === labels[name])) return record;
    }
    return undefined;
  };
  const existing = find();
  if (existing) return existing;
  histogram.zero(labels);
  const made = find();
  if (!made) throw new Error(`prom-client kept no histogram record for ${JSON.stringify(labels)}`);
  return made;
}
