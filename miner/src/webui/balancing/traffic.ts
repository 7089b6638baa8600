import type { CallerInstance, CallerView } from './caller-view.js';

/**
 * Rates from cumulative counters: what one caller sent each upstream instance between two of
 * its samples, summed over callers. Pure functions; the poller (monitor.ts) feeds them.
 */

/** Attempts that never left the caller (its breaker was open): not traffic. */
const NOT_SENT = new Set(['breaker_open']);
/** Outcomes that are the instance's failures as its callers see them. */
const ERROR_OUTCOMES = new Set(['server_error', 'timeout', 'connection_error']);

/** Counts over an interval for one instance (or several callers' worth of it). */
export interface Traffic {
  requests: number;
  errors: number;
  /** Attempts timed (the latency histogram's count). */
  timed: number;
  /** Cumulative bucket counts, aligned with the caller's latencyBucketsSeconds. */
  buckets: number[];
}

/** service → instance id → traffic */
export type TrafficMap = Map<string, Map<string, Traffic>>;

/**
 * What `newer` counted since `older`, per service and instance, never negative. A caller that
 * restarted (another `startedAt`) counts from zero again; so does an instance whose series it
 * forgot and re-created (it left the list and came back): then the newer counts are all new.
 */
export function trafficBetween(older: CallerView, newer: CallerView): TrafficMap {
  const sameProcess = older.startedAt === newer.startedAt;
  const before = new Map<string, CallerInstance>();
  if (sameProcess) for (const u of older.upstreams) for (const i of u.instances) before.set(key(u.service, i.id), i);
  const result: TrafficMap = new Map();
  for (const upstream of newer.upstreams) {
    const perInstance = new Map<string, Traffic>();
    for (const instance of upstream.instances) {
      const base = before.get(key(upstream.service, instance.id));
      perInstance.set(instance.id, difference(base && !restarted(base, instance) ? base : undefined, instance));
    }
    result.set(upstream.service, perInstance);
  }
  return result;
}

/** Sums traffic maps (several callers of the same instances). */
export function sumTraffic(maps: Iterable<TrafficMap>): TrafficMap {
  const total: TrafficMap = new Map();
  for (const map of maps) {
    for (const [service, instances] of map) {
      let into = total.get(service);
      if (!into) total.set(service, (into = new Map()));
      for (const [id, traffic] of instances) {
        const sum = into.get(id);
        into.set(id, sum ? add(sum, traffic) : { ...traffic, buckets: [...traffic.buckets] });
      }
    }
  }
  return total;
}

/**
 * The q-quantile (0..1) of the latencies counted in `traffic`, in seconds, interpolated inside
 * its bucket as Prometheus' histogram_quantile does; past the last bound, the last bound. Null
 * when nothing was timed.
 */
export function latencyQuantile(traffic: Traffic, bounds: readonly number[], q: number): number | null {
  if (traffic.timed <= 0) return null;
  const rank = q * traffic.timed;
  for (let i = 0; i < bounds.length; i++) {
    const upTo = traffic.buckets[i] ?? 0;
    if (upTo < rank) continue;
    const below = i === 0 ? 0 : (traffic.buckets[i - 1] ?? 0);
    const lower = i === 0 ? 0 : bounds[i - 1]!;
    const inBucket = upTo - below;
    return inBucket > 0 ? lower + (bounds[i]! - lower) * ((rank - below) / inBucket) : bounds[i]!;
  }
  return bounds.at(-1) ?? null;
}

function key(service: string, id: string): string {
  return `${service}\u0000${id}`;
}

/** Some counter went down: the series started over. */
function restarted(older: CallerInstance, newer: CallerInstance): boolean {
  if (newer.latency.count < older.latency.count) return true;
  return Object.entries(older.outcomes).some(([outcome, n]) => (newer.outcomes[outcome] ?? 0) < n);
}

function difference(older: CallerInstance | undefined, newer: CallerInstance): Traffic {
  let requests = 0;
  let errors = 0;
  for (const [outcome, n] of Object.entries(newer.outcomes)) {
    const delta = n - (older?.outcomes[outcome] ?? 0);
    if (!NOT_SENT.has(outcome)) requests += delta;
    if (ERROR_OUTCOMES.has(outcome)) errors += delta;
  }
  return {
    requests,
    errors,
    timed: newer.latency.count - (older?.latency.count ?? 0),
    buckets: newer.latency.buckets.map((n, i) => Math.max(0, n - (older?.latency.buckets[i] ?? 0))),
  };
}

function add(a: Traffic, b: Traffic): Traffic {
  const length = Math.max(a.buckets.length, b.buckets.length);
  return {
    requests: a.requests + b.requests,
    errors: a.errors + b.errors,
    timed: a.timed + b.timed,
    buckets: Array.from({ length }, (_, i) => (a.buckets[i] ?? 0) + (b.buckets[i] ?? 0)),
  };
}
