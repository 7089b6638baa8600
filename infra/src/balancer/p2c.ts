import type { Instance } from '../sd/instance.js';
import type { Balancer, LoadOf } from './balancer.js';

/**
 * Power of two choices, least outstanding requests (Envoy's and gRPC's least-request): sample two
 * distinct candidates at random and take the one with fewer requests in flight. It avoids the herd
 * that "always the least loaded" causes, and steers away from a slow instance quickly.
 */
export function powerOfTwoChoices(loadOf: LoadOf, random: () => number = Math.random): Balancer {
  return {
    name: 'p2c',
    pick(candidates) {
      if (candidates.length === 0) return undefined;
      if (candidates.length === 1) return candidates[0];
      const first = Math.floor(random() * candidates.length);
      // Draw the second from the remaining n-1 so the two are always distinct.
      let second = Math.floor(random() * (candidates.length - 1));
      if (second >= first) second += 1;
      const a = candidates[first] as Instance;
      const b = candidates[second] as Instance;
      return loadOf(b.id) < loadOf(a.id) ? b : a;
    },
  };
}
