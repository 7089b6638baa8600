import type { Logger } from 'pino';
import type { ConsulClient } from './consul.js';
import { Watcher, type WatcherOptions } from './watcher.js';

/**
 * One watcher per service name per process, shared by every caller: ten ServiceClients for
 * `rng` cost Consul one blocking query, not ten.
 */
export class WatcherRegistry {
  private readonly watchers = new Map<string, Watcher>();

  constructor(
    private readonly consul: ConsulClient,
    private readonly defaults: Omit<WatcherOptions, 'consul' | 'service'> & { logger?: Logger } = {},
  ) {}

  watch(service: string): Watcher {
    let watcher = this.watchers.get(service);
    if (!watcher) {
      watcher = new Watcher({ ...this.defaults, consul: this.consul, service }).start();
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
