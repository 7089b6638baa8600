/**
 * The server's request metrics (requests by method, route and status; latency by method and
 * route), counted into plain numbers per (method, route) and handed to prom-client only when the
 * instruments are read, as the ServiceClient does per upstream instance. `inc(labels)` and
 * `observe(labels, s)` validate a labels object and build a hash key from it on every call:
 * twice per request on every service, ~2 % of a proxied request's instructions at the gateway.
 * What a read reports is exactly what prom-client would have counted itself (request-metrics.test.ts).
 */
import { addToHistogram, httpServerDuration, httpServerRequests, latencyBucketOf, latencyBuckets, publishOnRead } from '../metrics.js';

/** One (method, route)'s counts since the last read. */
class RouteSeries {
  private readonly labels: { method: string; route: string };
  /** Requests per status code (a handful per route), since the last read. */
  private readonly statuses = new Map<number, number>();
  private readonly buckets = new Float64Array(latencyBuckets.length);
  private observed = 0;
  private observedSeconds = 0;
  private listed = false;

  constructor(method: string, route: string) {
    this.labels = { method, route };
  }

  record(status: number, seconds: number): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    const bucket = latencyBucketOf(seconds);
    if (bucket < latencyBuckets.length) this.buckets[bucket]! += 1;
    this.observed += 1;
    this.observedSeconds += seconds;
    if (this.listed) return;
    this.listed = true;
    publishOnRead(this);
  }

  publish(): void {
    this.listed = false;
    for (const [status, count] of this.statuses) httpServerRequests.inc({ ...this.labels, status: String(status) }, count);
    this.statuses.clear();
    if (this.observed === 0) return;
    addToHistogram(httpServerDuration, this.labels, this.buckets, this.observed, this.observedSeconds);
    this.observed = 0;
    this.observedSeconds = 0;
  }
}

/**
 * Series by method, then by route: two lookups by strings the request already holds, no key built
 * per request. Both are bounded: node's parser accepts only the methods it knows, and a route is
 * a template of the service's table (or 'unmatched').
 */
const series = new Map<string, Map<string, RouteSeries>>();

/** Counts one answered request: `route` is its template (never a raw path), `seconds` its time to serve. */
export function recordServerRequest(method: string, route: string, status: number, seconds: number): void {
  let byRoute = series.get(method);
  if (!byRoute) series.set(method, (byRoute = new Map()));
  let routeSeries = byRoute.get(route);
  if (!routeSeries) byRoute.set(route, (routeSeries = new RouteSeries(method, route)));
  routeSeries.record(status, seconds);
}
