import type { Instance } from '../sd/instance.js';
import type { Instancer } from '../sd/instancer.js';
import { upstreamEvents, type UpstreamEventRing } from './upstream-events.js';

/** What the view reads from one ServiceClient: its breakers and in-flight counts. */
export interface InstanceStateReader {
  loadOf(instanceId: string): number;
  breakerState(instanceId: string): 'closed' | 'open' | 'half-open';
}

interface UpstreamEntry {
  instancer: Instancer;
  states: Set<InstanceStateReader>;
  known: Set<string> | undefined;
  unsubscribe: () => void;
}

/** One upstream service as this process sees it, read on demand by the view. */
export interface UpstreamSnapshot {
  service: string;
  passing: readonly Instance[];
  /** See Instancer.lastSyncAt. */
  lastSyncAt: number;
  states: readonly InstanceStateReader[];
}

/**
 * The upstream services this process calls (every live ServiceClient registers here), so the
 * `/metrics/upstreams` view can list them without any per-request work. It also turns each
 * service's list changes into joined/left events, once per service however many clients share
 * its instancer.
 */
export class UpstreamRegistry {
  private readonly entries = new Map<string, UpstreamEntry>();

  constructor(private readonly events: UpstreamEventRing = upstreamEvents) {}

  /** Registers a client of `service`; the returned function unregisters it (once). */
  add(service: string, instancer: Instancer, state: InstanceStateReader): () => void {
    let entry = this.entries.get(service);
    if (!entry) {
      const created: UpstreamEntry = { instancer, states: new Set(), known: undefined, unsubscribe: () => {} };
      // Before the registry's first answer the list means "unknown": its first answer is the
      // starting point, not a wave of joins. A first answer with no instance notifies nobody
      // (the list did not change), so ready() seeds the empty starting point then.
      if (instancer.lastSyncAt > 0) created.known = new Set(instancer.instances().map((i) => i.id));
      else void instancer.ready().then((list) => (created.known ??= new Set(list.map((i) => i.id))), () => {});
      created.unsubscribe = instancer.subscribe((instances) => this.changed(service, created, instances));
      this.entries.set(service, created);
      entry = created;
    }
    const owner = entry;
    owner.states.add(state);
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      owner.states.delete(state);
      if (owner.states.size > 0 || this.entries.get(service) !== owner) return;
      owner.unsubscribe();
      this.entries.delete(service);
    };
  }

  snapshot(): UpstreamSnapshot[] {
    return [...this.entries].map(([service, entry]) => ({
      service,
      passing: entry.instancer.instances(),
      lastSyncAt: entry.instancer.lastSyncAt,
      states: [...entry.states],
    }));
  }

  private changed(service: string, entry: UpstreamEntry, instances: readonly Instance[]): void {
    const now = new Set(instances.map((i) => i.id));
    const before = entry.known;
    entry.known = now;
    if (!before) return;
    for (const id of now) if (!before.has(id)) this.events.record('joined', service, id);
    for (const id of before) if (!now.has(id)) this.events.record('left', service, id);
  }
}

/** The process's registry (one per process, like the metrics registry). */
export const upstreamRegistry = new UpstreamRegistry();
