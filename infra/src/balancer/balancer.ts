import type { Instance } from '../sd/instance.js';

/**
 * Chooses one instance among `candidates`: the passing instances whose breaker is not open and
 * that this call has not tried yet. Balancers are pure over that list (plus their own cursor or
 * random source), so their order and fairness are unit-tested without a network.
 */
export interface Balancer {
  readonly name: string;
  pick(candidates: readonly Instance[]): Instance | undefined;
}

/** Outstanding (in-flight) requests per instance id, for load-aware strategies. */
export type LoadOf = (instanceId: string) => number;
