import type { Instance } from '../instance.js';
import type { Balancer } from './balancer.js';

/**
 * Round robin over the candidate list. The watcher keeps instances sorted by id, so with a stable
 * set every instance gets exactly one call in every `n` consecutive calls.
 */
export function roundRobin(start = 0): Balancer {
  let cursor = start;
  return {
    name: 'round-robin',
    pick(candidates) {
      if (candidates.length === 0) return undefined;
      const chosen = candidates[cursor % candidates.length] as Instance;
      cursor = (cursor + 1) % Number.MAX_SAFE_INTEGER;
      return chosen;
    },
  };
}
