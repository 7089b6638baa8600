import { runService } from '@switchyard/infra';
import { workerConfigShape } from './config.js';
import { setupWorker } from './worker-service.js';

// dockercoins' worker: rng → hasher → coin? → Redis, on WORKER_CONCURRENCY lanes, rng and hasher
// found through Consul and balanced client-side, so adding rng instances raises hashes/s.
await runService({
  name: 'worker',
  config: workerConfigShape,
  setup: setupWorker,
});
