import { metricsRegistry } from '@switchyard/infra';
import { Gauge } from '@switchyard/infra';
import type { SerialQueue } from '../shared/serial-queue.js';

const queues = new Set<SerialQueue>();

/**
 * Requests in this instance's queue, the waiting ones plus the one running: the rng's load.
 * Read when /metrics is scraped. Near RNG_QUEUE_LIMIT, the instance starts answering 503.
 */
new Gauge({
  name: 'miner_rng_queue_depth',
  help: 'Requests queued in this rng instance, waiting plus running (one runs at a time)',
  registers: [metricsRegistry],
  collect() {
    let depth = 0;
    for (const queue of queues) depth += queue.waiting + (queue.busy ? 1 : 0);
    this.set(depth);
  },
});

/** Reports `queue` in miner_rng_queue_depth (the gauge is a process-wide singleton). */
export function exposeQueueDepth(queue: SerialQueue): void {
  queues.add(queue);
}
