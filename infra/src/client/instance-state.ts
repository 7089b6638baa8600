import type { Logger } from 'pino';
import { UpstreamInstanceMetrics } from '../metrics.js';
import { instanceOrigin, type Instance } from '../sd/instance.js';
import type { Instancer } from '../sd/instancer.js';
import { InstanceBreakers, type BreakerOptions, type Trial } from './breakers.js';
import type { InstanceEvidence } from './retry-policy.js';

/** How long the metric series of an instance that left stay, for a scrape to read its last counts. */
const DEPARTED_SERIES_GRACE_MS = 60_000;

/**
 * What one caller keeps per instance it called, built once rather than on every call: the
 * origin its requests go to, its calls in flight, and its metric series.
 */
export class InstanceEntry {
  /** Calls in flight (streams and upgrades count until they close). */
  inFlight = 0;
  readonly metrics: UpstreamInstanceMetrics;
  origin: string;

  constructor(
    service: string,
    public instance: Instance,
  ) {
    this.origin = instanceOrigin(instance);
    this.metrics = new UpstreamInstanceMetrics(service, instance.id);
  }
}

/**
 * What one caller knows about each instance of a service beyond Consul's list: its calls in
 * flight (the load the p2c balancer reads) and its circuit breaker. Forgets instances that left
 * the list, so ids of restarted instances (a new port each time) do not accumulate.
 */
export class InstanceState {
  private readonly breakers: InstanceBreakers;
  private readonly entries = new Map<string, InstanceEntry>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly service: string,
    instancer: Instancer,
    breakerOptions: BreakerOptions,
    logger?: Logger,
  ) {
    this.breakers = new InstanceBreakers(service, breakerOptions, logger);
    this.unsubscribe = instancer.subscribe((instances) => this.retain(instances));
  }

  /** Calls in flight to the instance (streams and upgrades count until they close). */
  readonly loadOf = (instanceId: string): number => this.entries.get(instanceId)?.inFlight ?? 0;

  /** Whether the instance's breaker ejects it now (a half-open one lets its trial through). */
  isEjected(instanceId: string): boolean {
    return this.breakers.isOpen(instanceId);
  }

  breakerState(instanceId: string) {
    return this.breakers.state(instanceId);
  }

  /** See InstanceBreakers.run: false when the breaker is open and the attempt did not run. */
  throughBreaker(instanceId: string, attempt: Trial): Promise<boolean> {
    return this.breakers.run(instanceId, attempt);
  }

  /** The instance's entry, made on its first call. */
  entry(instance: Instance): InstanceEntry {
    let entry = this.entries.get(instance.id);
    if (!entry) {
      entry = new InstanceEntry(this.service, instance);
      this.entries.set(instance.id, entry);
    } else if (entry.instance !== instance) {
      // The watcher's next list: the same id, so the same address, but keep the latest.
      entry.instance = instance;
      entry.origin = instanceOrigin(instance);
    }
    return entry;
  }

  close(): void {
    this.unsubscribe();
    this.breakers.shutdown();
  }

  private retain(instances: readonly Instance[]): void {
    const passing = new Set(instances.map((i) => i.id));
    this.breakers.retain(passing);
    // Forget instances that left, but not while a call to them is still in flight: it records
    // its outcome when it ends.
    for (const [id, entry] of this.entries) {
      if (passing.has(id) || entry.inFlight > 0) continue;
      this.entries.delete(id);
      entry.metrics.retireAfter(DEPARTED_SERIES_GRACE_MS);
    }
  }
}
