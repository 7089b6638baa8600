import type { CallerView } from './caller-view.js';
import { latencyQuantile, sumTraffic, trafficBetween, type Traffic, type TrafficMap } from './traffic.js';

type BreakerState = 'closed' | 'half-open' | 'open';

/** One instance of a service as the page shows it: its callers' numbers summed. */
export interface InstancePanel {
  id: string;
  /** Passing in Consul now (false: some caller still lists it, Consul no longer does). */
  passing: boolean;
  requestsPerSecond: number;
  /** Share (0..1) of the service's requests per second. */
  share: number;
  errorsPerSecond: number;
  p50Ms: number | null;
  p99Ms: number | null;
  /** The worst breaker state among its callers. */
  breaker: BreakerState;
  /** Callers whose breaker for it is open or half-open. */
  ejectedBy: string[];
  /** Calls in flight from every caller. */
  inFlight: number;
  /** Callers that count traffic to it. */
  seenBy: string[];
  /** Its open live sockets, for services that serve them; else null. */
  liveSockets: number | null;
}

export interface ServicePanel {
  service: string;
  /** Passing instance ids, as Consul lists them. */
  passing: string[];
  /** Callers (instance ids) that call this service. */
  callers: string[];
  requestsPerSecond: number;
  instances: InstancePanel[];
}

const BREAKER_ORDER: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/**
 * The samples of each caller over the last `windowMs`: rates are differences between a caller's
 * newest and oldest sample in the window (a steadier number than one second's difference), each
 * caller over its own span, then summed. A caller that restarted starts over.
 */
export class TrafficWindow {
  private readonly samples = new Map<string, CallerView[]>();

  constructor(private readonly windowMs = 5_000) {}

  add(view: CallerView): void {
    let list = this.samples.get(view.caller);
    const last = list?.at(-1);
    if (!list || (last && (last.startedAt !== view.startedAt || view.now <= last.now))) {
      list = [];
      this.samples.set(view.caller, list);
    }
    list.push(view);
    while (list.length > 2 && view.now - list[1]!.now >= this.windowMs) list.shift();
  }

  /** Forgets callers that are no longer polled (gone from Consul). */
  retain(callerIds: Iterable<string>): void {
    const keep = new Set(callerIds);
    for (const id of this.samples.keys()) if (!keep.has(id)) this.samples.delete(id);
  }

  /** Per second, summed over callers; an instance only one caller knows counts that caller's. */
  rates(): TrafficMap {
    const perCaller: TrafficMap[] = [];
    for (const list of this.samples.values()) {
      const oldest = list[0];
      const newest = list.at(-1);
      if (!oldest || !newest || oldest === newest) continue;
      perCaller.push(scale(trafficBetween(oldest, newest), 1000 / (newest.now - oldest.now)));
    }
    return sumTraffic(perCaller);
  }
}

export interface PanelInput {
  /** service → passing instance ids, from Consul. */
  consul: ReadonlyMap<string, readonly string[]>;
  /** The latest view of each caller. */
  views: readonly CallerView[];
  /** Per-second traffic (TrafficWindow.rates). */
  rates: TrafficMap;
  /** Open live sockets per instance id (each instance's own view), for the services in `socketServices`. */
  liveSockets: ReadonlyMap<string, number>;
  socketServices: ReadonlySet<string>;
}

/**
 * One panel per service: every service Consul lists, and every upstream a caller names. Its
 * instances: those passing in Consul, and those a caller still lists as passing (leaving).
 */
export function buildPanels(input: PanelInput): ServicePanel[] {
  const services = new Set([...input.consul.keys(), ...input.views.flatMap((v) => v.upstreams.map((u) => u.service))]);
  const bounds = input.views[0]?.latencyBucketsSeconds ?? [];
  return [...services].sort().map((service) => {
    const passing = [...(input.consul.get(service) ?? [])].sort();
    const callers = input.views.filter((v) => v.upstreams.some((u) => u.service === service));
    const ids = new Set(passing);
    for (const view of callers) for (const u of view.upstreams) if (u.service === service) u.passing.forEach((id) => ids.add(id));
    const traffic = input.rates.get(service) ?? new Map<string, Traffic>();
    const total = [...ids].reduce((sum, id) => sum + (traffic.get(id)?.requests ?? 0), 0);
    const instances = [...ids].sort().map((id): InstancePanel => {
      const t = traffic.get(id);
      let breaker: BreakerState = 'closed';
      const ejectedBy: string[] = [];
      const seenBy: string[] = [];
      let inFlight = 0;
      for (const view of callers) {
        const known = view.upstreams.find((u) => u.service === service)?.instances.find((i) => i.id === id);
        if (!known) continue;
        seenBy.push(view.caller);
        inFlight += known.inFlight;
        if (known.breaker !== 'closed') ejectedBy.push(view.caller);
        if (BREAKER_ORDER[known.breaker] > BREAKER_ORDER[breaker]) breaker = known.breaker;
      }
      const requestsPerSecond = t?.requests ?? 0;
      const toMs = (seconds: number | null) => (seconds === null ? null : seconds * 1000);
      return {
        id,
        passing: passing.includes(id),
        requestsPerSecond,
        share: total > 0 ? requestsPerSecond / total : 0,
        errorsPerSecond: t?.errors ?? 0,
        p50Ms: t ? toMs(latencyQuantile(t, bounds, 0.5)) : null,
        p99Ms: t ? toMs(latencyQuantile(t, bounds, 0.99)) : null,
        breaker,
        ejectedBy,
        inFlight,
        seenBy,
        liveSockets: input.socketServices.has(service) ? (input.liveSockets.get(id) ?? 0) : null,
      };
    });
    return { service, passing, callers: callers.map((v) => v.caller).sort(), requestsPerSecond: total, instances };
  });
}

function scale(map: TrafficMap, factor: number): TrafficMap {
  const scaled: TrafficMap = new Map();
  for (const [service, instances] of map) {
    scaled.set(
      service,
      new Map(
        [...instances].map(([id, t]) => [
          id,
          { requests: t.requests * factor, errors: t.errors * factor, timed: t.timed * factor, buckets: t.buckets.map((n) => n * factor) },
        ]),
      ),
    );
  }
  return scaled;
}
