import type { Instance } from './instance.js';

/** Called with the full new list of passing instances each time it changes. */
export type InstancesListener = (instances: readonly Instance[]) => void;

/**
 * A live source of the passing instances of one service (go-kit's `sd.Instancer`). Callers
 * (ServiceClient, the worker's lanes, the webui) depend on this interface only; the Consul
 * blocking-query watcher is one implementation (consul/watcher.ts), FixedInstancer another.
 */
export interface Instancer {
  readonly service: string;
  /** The last known passing instances (possibly stale while the registry is unreachable). */
  instances(): readonly Instance[];
  /** Time of the last answer from the registry; 0 until the first one ("unknown", not "none"). */
  readonly lastSyncAt: number;
  /** Resolves once the registry answered at least once, or after `timeoutMs` with what is known. */
  ready(timeoutMs?: number): Promise<readonly Instance[]>;
  /** Calls `listener` on every change of the list; returns the unsubscribe function. */
  subscribe(listener: InstancesListener): () => void;
}

/**
 * An Instancer whose list is set by hand: for tests of everything above discovery (balancing,
 * retries, breakers) without a registry, and for static upstreams. `set()` notifies subscribers
 * as a registry change would.
 */
export class FixedInstancer implements Instancer {
  private current: readonly Instance[];
  private readonly listeners = new Set<InstancesListener>();
  lastSyncAt: number;

  constructor(
    readonly service: string,
    instances: readonly Instance[] = [],
    /** False: behave like a registry that has not answered yet (lastSyncAt 0). */
    synced = true,
  ) {
    this.current = Object.freeze([...instances]);
    this.lastSyncAt = synced ? Date.now() : 0;
  }

  instances(): readonly Instance[] {
    return this.current;
  }

  async ready(): Promise<readonly Instance[]> {
    return this.current;
  }

  subscribe(listener: InstancesListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  set(instances: readonly Instance[]): void {
    this.current = Object.freeze([...instances]);
    this.lastSyncAt = Date.now();
    for (const listener of this.listeners) listener(this.current);
  }

  /** How many subscribers are attached (tests check that clients unsubscribe on close). */
  get subscriberCount(): number {
    return this.listeners.size;
  }
}
