import { metricsRegistry } from '@switchyard/infra';
import { Counter } from '@switchyard/infra';

/**
 * Failed mining iterations by the call that failed and why (both from fixed sets, see
 * failure.ts). rng overload shows here as all_ejected/bad_answer, never as fallback hashes.
 */
export const failedIterations = new Counter({
  name: 'miner_worker_failed_iterations_total',
  help: 'Mining iterations that failed (and backed off), by upstream (rng, hasher, other) and reason',
  labelNames: ['upstream', 'reason'] as const,
  registers: [metricsRegistry],
});
