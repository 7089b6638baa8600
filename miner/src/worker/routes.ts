import type { Router } from '@switchyard/infra';
import type { MiningCounters } from './counters.js';
import type { MiningLoop } from './mining-loop.js';

export interface WorkerView {
  serviceId: () => string;
  counters: MiningCounters;
  loop: MiningLoop;
  settings: Record<string, unknown>;
}

/** The worker has no API to speak of: a banner, and its own totals for operators and tests. */
export function workerRoutes(view: WorkerView) {
  return (router: Router) => {
    router.get('/', (_req, res) => {
      res.type('text/plain').send(`WORKER running on ${view.serviceId()}\n`);
    });

    // produced: every hash this process mined; flushed: what Redis has confirmed. Their
    // difference is at most about a flush interval of hashes, or more while Redis is down.
    router.get('/stats', (_req, res) => {
      res.json({
        id: view.serviceId(),
        running: view.loop.running,
        inFlight: view.loop.inFlight,
        lanes: view.loop.concurrency,
        produced: view.counters.produced,
        flushed: view.counters.flushed,
        unflushedHashes: view.counters.unflushedHashes,
        // Failed iterations back off and retry; by reason on /metrics (miner_worker_failed_iterations_total).
        failedIterations: view.loop.failedIterations,
        settings: view.settings,
      });
    });
  };
}
