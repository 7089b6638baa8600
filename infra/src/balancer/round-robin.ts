import type { Instance } from '../sd/instance.js';
import type { Balancer } from './balancer.js';

/**
 * Round robin over a ring ordered by instance id: each pick takes the first candidate whose id
 * follows the previous pick. Remembering the last *id* rather than a list position keeps the
 * rotation fair when the candidate list changes between calls (an instance joins or leaves, a
 * breaker opens, a retry excludes the instance it just tried): nobody is skipped or picked twice
 * in a row because positions shifted. `start` offsets the first pick, so many callers started
 * at once do not all begin with the same instance.
 */
export function roundRobin(start = 0): Balancer {
  let lastId: string | undefined;
  return {
    name: 'round-robin',
    pick(candidates) {
      if (candidates.length === 0) return undefined;
      let chosen: Instance | undefined;
      if (lastId === undefined) {
        chosen = [...candidates].sort(byId)[start % candidates.length];
      } else {
        let lowest: Instance | undefined;
        for (const candidate of candidates) {
          if (!lowest || candidate.id < lowest.id) lowest = candidate;
          if (candidate.id > lastId && (!chosen || candidate.id < chosen.id)) chosen = candidate;
        }
        chosen ??= lowest; // wrap around the ring
      }
      lastId = chosen!.id;
      return chosen;
    },
  };
}

function byId(a: Instance, b: Instance): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
