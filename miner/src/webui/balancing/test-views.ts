/** Builders of caller views for the balancing unit tests. Not a test file itself. */
import type { CallerInstance, CallerView } from './caller-view.js';

export const BOUNDS = [0.01, 0.1, 1];

/** An instance that served `ok` calls (and `errors` server errors), all within 10 ms unless `latency` says otherwise. */
export function counted(id: string, ok: number, extra: Partial<CallerInstance> & { errors?: number; latency?: number[] } = {}): CallerInstance {
  const { errors = 0, latency, ...rest } = extra;
  const total = ok + errors;
  return {
    id,
    passing: true,
    breaker: 'closed',
    inFlight: 0,
    outcomes: { ok, ...(errors > 0 && { server_error: errors }) },
    latency: { buckets: latency ?? [total, total, total], count: total, sumSeconds: total * 0.005 },
    ...rest,
  };
}

/** A caller's view at `seconds` (since 1 000 000 ms) of its upstreams. */
export function view(caller: string, seconds: number, upstreams: Record<string, CallerInstance[]>, extra: Partial<CallerView> = {}): CallerView {
  return {
    caller,
    startedAt: 1,
    now: 1_000_000 + seconds * 1000,
    liveSockets: 0,
    latencyBucketsSeconds: BOUNDS,
    upstreams: Object.entries(upstreams).map(([service, instances]) => ({
      service,
      passing: instances.filter((i) => i.passing).map((i) => i.id),
      instances,
    })),
    events: [],
    ...extra,
  };
}
