import type { Logger } from 'pino';
import { forgetUpstreamInstance } from '../metrics.js';
import type { Instance } from '../sd/instance.js';
import type { Instancer } from '../sd/instancer.js';
import { InstanceBreakers, type BreakerOptions } from './breakers.js';
import type { InstanceEvidence } from './retry-policy.js';

/**
 * What one caller knows about each instance of a service beyond Consul's list: its calls in
 * flight (the load the p2c balancer reads) and its circuit breaker. Forgets instances that left
 * the list, so ids of restarted instances (a new port each time) do not accumulate.
 */
export class InstanceState {
  private readonly breakers: InstanceBreakers;
  private readonly outstanding = new Map<string, number>();
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
  readonly loadOf = (instanceId: string): number => this.outstanding.get(instanceId) ?? 0;

  /** Whether the instance's breaker ejects it now (a half-open one lets its trial through). */
  isEjected(instanceId: string): boolean {
    return this.breakers.isOpen(instanceId);
  }

  breakerState(instanceId: string) {
    return this.breakers.state(instanceId);
  }

  /** See InstanceBreakers.run: false when the breaker is open and the attempt did not run. */
  throughBreaker(instanceId: string, attempt: () => Promise<InstanceEvidence>): Promise<boolean> {
    return this.breakers.run(instanceId, attempt);
  }

  /** Counts a call in flight to the instance; the returned function ends it (once). */
  beginCall(instanceId: string): () => void {
    this.outstanding.set(instanceId, this.loadOf(instanceId) + 1);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.outstanding.set(instanceId, this.loadOf(instanceId) - 1);
    };
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
    for (const [id, inFlight] of this.outstanding) {
      if (passing.has(id) || inFlight > 0) continue;
      this.outstanding.delete(id);
      forgetUpstreamInstance(this.service, id);
    }
  }
}
