import { performance } from 'node:perf_hooks';
import { upstreamRegistry, type UpstreamRegistry } from '../client/upstream-registry.js';
import { upstreamEvents, type UpstreamEvent, type UpstreamEventRing } from '../client/upstream-events.js';
import { latencyBuckets, metricsRegistry, upstreamDuration, upstreamRequests } from '../metrics.js';
import { openLiveSocketCount } from '../live/live-sockets.js';

/**
 * `GET /metrics/upstreams`: what this process knows about the services it calls, as JSON, for
 * the webui's balancing page (and for a human with curl). Everything is read on request from
 * what is already kept: the watchers' lists, the breakers, the in-flight counts, the
 * prom-client series and the event ring. Counters are cumulative since the process started:
 * readers compute rates from two samples (a restart shows as a new `startedAt`).
 */
export interface UpstreamsView {
  /** The Consul id of the process answering. */
  caller: string;
  pid: number;
  /** When this process started (ms since the epoch): a change means its counters restarted. */
  startedAt: number;
  /** When this view was taken (ms since the epoch). */
  now: number;
  /** Open live WebSockets on this instance; null when it serves no live endpoint. */
  liveSockets: number | null;
  /** Upper bounds (seconds) of the latency buckets; `latency.buckets` counts align with them. */
  latencyBucketsSeconds: number[];
  upstreams: UpstreamView[];
  /** Oldest first; bounded (the newest 200). */
  events: UpstreamEvent[];
}

export interface UpstreamView {
  /** The Consul name of the upstream service. */
  service: string;
  /** Passing instance ids, as this caller's watcher last saw them. */
  passing: string[];
  /** Time of the watcher's last answer from Consul; 0 before the first. */
  lastSyncAt: number;
  instances: UpstreamInstanceView[];
}

export interface UpstreamInstanceView {
  id: string;
  passing: boolean;
  /** The worst state among this process's breakers for the instance. */
  breaker: 'closed' | 'half-open' | 'open';
  /** Calls in flight now (streams and upgraded connections until they close). */
  inFlight: number;
  /** Cumulative attempts by outcome (see switchyard_upstream_requests_total); breaker_open: never sent. */
  outcomes: Record<string, number>;
  /** Cumulative attempt latency: counts per bucket (cumulative, as Prometheus), total count and sum. */
  latency: { buckets: number[]; count: number; sumSeconds: number };
}

const BREAKER_ORDER = { closed: 0, 'half-open': 1, open: 2 } as const;

export async function upstreamsView(
  serviceId: string,
  sources: { registry?: UpstreamRegistry; events?: UpstreamEventRing } = {},
): Promise<UpstreamsView> {
  const registry = sources.registry ?? upstreamRegistry;
  const [requests, durations] = await Promise.all([upstreamRequests.get(), upstreamDuration.get()]);
  const liveSockets = openLiveSocketCount();

  const instances = new Map<string, UpstreamInstanceView>();
  const instanceOf = (service: string, id: string) => {
    const key = `${service}\u0000${id}`;
    let view = instances.get(key);
    if (!view) {
      view = { id, passing: false, breaker: 'closed', inFlight: 0, outcomes: {}, latency: { buckets: latencyBuckets.map(() => 0), count: 0, sumSeconds: 0 } };
      instances.set(key, view);
    }
    return view;
  };
  for (const { labels, value } of requests.values) {
    const view = instanceOf(String(labels.service), String(labels.instance));
    view.outcomes[String(labels.outcome)] = value;
  }
  for (const sample of durations.values) {
    const { labels, value } = sample;
    const view = instanceOf(String(labels.service), String(labels.instance));
    const name = (sample as { metricName?: string }).metricName ?? '';
    if (name.endsWith('_count')) view.latency.count = value;
    else if (name.endsWith('_sum')) view.latency.sumSeconds = value;
    else if (name.endsWith('_bucket')) {
      const at = latencyBuckets.indexOf(Number((labels as Record<string, unknown>).le));
      if (at !== -1) view.latency.buckets[at] = value;
    }
  }

  const upstreams: UpstreamView[] = registry.snapshot().map((upstream) => {
    const passing = upstream.passing.map((i) => i.id);
    const ids = new Set(passing);
    for (const key of instances.keys()) {
      const [service, id] = key.split('\u0000') as [string, string];
      if (service === upstream.service) ids.add(id);
    }
    const listed = [...ids].sort().map((id) => {
      const view = instanceOf(upstream.service, id);
      view.passing = passing.includes(id);
      for (const state of upstream.states) {
        view.inFlight += state.loadOf(id);
        const breaker = state.breakerState(id);
        if (BREAKER_ORDER[breaker] > BREAKER_ORDER[view.breaker]) view.breaker = breaker;
      }
      return view;
    });
    return { service: upstream.service, passing, lastSyncAt: upstream.lastSyncAt, instances: listed };
  });

  return {
    caller: serviceId,
    pid: process.pid,
    startedAt: Math.round(performance.timeOrigin),
    now: Date.now(),
    liveSockets,
    latencyBucketsSeconds: [...latencyBuckets],
    // By code unit, not localeCompare: service names are ASCII, and a collator maps ICU's collation
    // data into every process the balancing page polls (~2 MiB of RSS, BENCHMARKS.md "Footprint").
    upstreams: upstreams.sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0)),
    events: (sources.events ?? upstreamEvents).list(),
  };
}

