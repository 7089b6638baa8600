import type { Instance } from '../sd/instance.js';
import type { Balancer } from './balancer.js';

/** Uniform random choice: even in expectation and stateless (the dynamic-microservices paper's pick). */
export function randomChoice(random: () => number = Math.random): Balancer {
  return {
    name: 'random',
    pick(candidates) {
      if (candidates.length === 0) return undefined;
      return candidates[Math.floor(random() * candidates.length)] as Instance;
    },
  };
}
