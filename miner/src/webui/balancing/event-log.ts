import type { CallerView } from './caller-view.js';

export type BalancingEventKind = 'joined' | 'left' | 'ejected' | 'back';

/** One line of the page's event strip. */
export interface BalancingEvent {
  /** Milliseconds since the epoch. */
  at: number;
  kind: BalancingEventKind;
  service: string;
  instance: string;
  /** joined/left: what Consul said (e.g. "passing", "deregistered"); ejected/back: nothing. */
  detail?: string;
  /** ejected/back: the callers whose breaker did it. */
  by: string[];
}

/** The same thing reported by several callers within this long is one event. */
const MERGE_WITHIN_MS = 10_000;

/**
 * The page's event strip, newest first and bounded: joined/left as the webui's own watchers see
 * Consul (one event per change, whoever calls the service), ejected/back from each caller's
 * breakers, merged when several callers eject the same instance.
 */
export class EventLog {
  private events: BalancingEvent[] = [];
  /** Per caller: its process start and the last event seq taken from it. */
  private readonly cursors = new Map<string, { startedAt: number; seq: number }>();

  constructor(private readonly capacity = 100) {}

  record(event: Omit<BalancingEvent, 'by'> & { by?: string[] }): void {
    this.insert({ ...event, by: event.by ?? [] });
  }

  /** Takes the breaker events of a caller's view that are new since its previous view. */
  takeFrom(view: CallerView): void {
    const cursor = this.cursors.get(view.caller);
    const since = cursor && cursor.startedAt === view.startedAt ? cursor.seq : 0;
    let seq = since;
    for (const event of view.events) {
      seq = Math.max(seq, event.seq);
      if (event.seq <= since || (event.kind !== 'ejected' && event.kind !== 'back')) continue;
      const same = this.events.find(
        (e) => e.kind === event.kind && e.service === event.service && e.instance === event.instance && Math.abs(e.at - event.at) <= MERGE_WITHIN_MS,
      );
      if (same) {
        if (!same.by.includes(view.caller)) same.by.push(view.caller);
        continue;
      }
      this.insert({ at: event.at, kind: event.kind, service: event.service, instance: event.instance, by: [view.caller] });
    }
    this.cursors.set(view.caller, { startedAt: view.startedAt, seq });
  }

  /** Forgets the cursors of callers no longer polled. */
  retain(callerIds: Iterable<string>): void {
    const keep = new Set(callerIds);
    for (const id of this.cursors.keys()) if (!keep.has(id)) this.cursors.delete(id);
  }

  /** Newest first. */
  list(): BalancingEvent[] {
    return this.events.map((e) => ({ ...e, by: [...e.by] }));
  }

  private insert(event: BalancingEvent): void {
    // Kept newest first; callers' clocks may put an event a little before ones already listed.
    const at = this.events.findIndex((e) => e.at <= event.at);
    this.events.splice(at === -1 ? this.events.length : at, 0, event);
    if (this.events.length > this.capacity) this.events.length = this.capacity;
  }
}
