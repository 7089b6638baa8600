/** A caller's view of its upstreams (GET /metrics/upstreams), for when a breaker ejected an instance and when Consul dropped it. */
import type { Running } from '../../support/isolated-stack.js';

export interface SeenEvent {
  at: number;
  kind: 'joined' | 'left' | 'ejected' | 'back';
  service: string;
  instance: string;
}

/** The events a caller recorded about `instance` (the gateway serves the view on its admin port). */
export async function eventsAbout(caller: Running, instance: string): Promise<SeenEvent[]> {
  const port = caller.adminPort ?? caller.port;
  const response = await fetch(`http://127.0.0.1:${port}/metrics/upstreams`);
  if (!response.ok) throw new Error(`${caller.serviceId} /metrics/upstreams answered ${response.status}`);
  const view = (await response.json()) as { events: SeenEvent[] };
  return view.events.filter((event) => event.instance === instance);
}

/** When (ms since the epoch) the caller first recorded `kind` for `instance` at or after `since`. */
export async function firstEvent(caller: Running, instance: string, kind: SeenEvent['kind'], since: number): Promise<number | undefined> {
  return (await eventsAbout(caller, instance)).find((event) => event.kind === kind && event.at >= since)?.at;
}
