import type { Instancer } from './instancer.js';

/** An Instancer the registry owns: it starts it on first use and stops it on stopAll(). */
export interface OwnedInstancer extends Instancer {
  stop(): Promise<void>;
}

/**
 * One instancer per service name per process, shared by every caller: ten ServiceClients for
 * `rng` cost Consul one blocking query, not ten. The factory decides the backend (Consul's
 * watcher in services, a FixedInstancer in tests).
 */
export class WatcherRegistry<T extends OwnedInstancer = OwnedInstancer> {
  private readonly watchers = new Map<string, T>();

  constructor(private readonly create: (service: string) => T) {}

  watch(service: string): T {
    let watcher = this.watchers.get(service);
    if (!watcher) {
      watcher = this.create(service);
      this.watchers.set(service, watcher);
    }
    return watcher;
  }

  async stopAll(): Promise<void> {
    const all = [...this.watchers.values()];
    this.watchers.clear();
    await Promise.all(all.map((w) => w.stop()));
  }
}
