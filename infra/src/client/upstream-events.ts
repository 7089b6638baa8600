/**
 * A bounded ring of what happened to this process's upstream instances: instances joining and
 * leaving the passing list (watcher changes) and breakers ejecting them or putting them back.
 * Recorded when it happens (rare: a list change, a breaker transition), never per request; read
 * by the `/metrics/upstreams` view (server/upstreams-view.ts).
 */
export type UpstreamEventKind =
  /** The instance appeared in the passing list. */
  | 'joined'
  /** The instance left the passing list (deregistered, or its check failed). */
  | 'left'
  /** This caller's breaker opened: the instance is ejected locally. */
  | 'ejected'
  /** This caller's breaker closed again after a successful trial: back in rotation. */
  | 'back';

export interface UpstreamEvent {
  /** Increasing per process: a poller keeps the events past the last seq it saw. */
  seq: number;
  /** Milliseconds since the epoch. */
  at: number;
  kind: UpstreamEventKind;
  service: string;
  instance: string;
}

export class UpstreamEventRing {
  private readonly events: UpstreamEvent[] = [];
  private seq = 0;

  constructor(private readonly capacity = 200) {}

  record(kind: UpstreamEventKind, service: string, instance: string, at = Date.now()): void {
    this.seq += 1;
    this.events.push({ seq: this.seq, at, kind, service, instance });
    if (this.events.length > this.capacity) this.events.shift();
  }

  /** Oldest first. */
  list(): UpstreamEvent[] {
    return [...this.events];
  }
}

/** The process's ring (one per process, like the metrics registry). */
export const upstreamEvents = new UpstreamEventRing();
