import type { Balancer, LoadOf } from './balancer.js';
import { powerOfTwoChoices } from './p2c.js';
import { randomChoice } from './random.js';
import { roundRobin } from './round-robin.js';

export type { Balancer, LoadOf } from './balancer.js';
export { powerOfTwoChoices, randomChoice, roundRobin };

export type BalancerName = 'round-robin' | 'random' | 'p2c';

export function createBalancer(name: BalancerName, loadOf: LoadOf): Balancer {
  switch (name) {
    case 'round-robin':
      // A random first pick: many callers started together do not all begin on one instance.
      return roundRobin(Math.floor(Math.random() * 1_000));
    case 'random':
      return randomChoice();
    case 'p2c':
      return powerOfTwoChoices(loadOf);
  }
}
