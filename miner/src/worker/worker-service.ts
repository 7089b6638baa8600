import { sleep, type ServiceParts } from '@switchyard/infra';
import { minerKeys } from '../shared/names.js';
import type { WorkerContext } from './config.js';
import { redisBatchWriter } from './count-store.js';
import { MiningCounters } from './counters.js';
import { MiningFailure } from './failure.js';
import { localRngFallback } from './local-rng.js';
import { failedIterations } from './metrics.js';
import { mineOnce } from './mine-once.js';
import { MiningLoop } from './mining-loop.js';
import { workerRoutes } from './routes.js';

const STOP_TIMEOUT_MS = 10_000;
const LANES_PER_RNG = 4;
const FINAL_FLUSH_ATTEMPTS = 5;

/** Wires the worker: clients → mining loop → batched counters → Redis, and its lifecycle. */
export function setupWorker(ctx: WorkerContext): ServiceParts {
  const { config, logger } = ctx;
  // The local fallback answers only when Consul lists no rng instance at all (local-rng.ts); an
  // overloaded or failing rng makes iterations fail and back off instead.
  const rng = ctx.client('rng', {
    attemptTimeoutMs: config.WORKER_RNG_TIMEOUT_MS,
    deadlineMs: 2 * config.WORKER_RNG_TIMEOUT_MS,
    fallback: localRngFallback(config.RNG_BYTES, config.WORKER_FALLBACK_DELAY_MS),
  });
  const hasher = ctx.client('hasher');
  const redis = ctx.redis();
  // A fresh id per run: a restarted worker on the same host and port must not inherit the
  // previous run's batch sequence (its first batches would be taken for duplicates).
  const startedAt = Date.now().toString(36);
  const runId = () => `${ctx.serviceId()}:${process.pid}:${startedAt}`;
  const counters = new MiningCounters(redisBatchWriter(redis, minerKeys(config.MINER_REDIS_PREFIX), runId));

  // "auto": lanes follow the passing rng instances (config.ts explains the 4 per instance).
  const rngInstances = ctx.watch('rng');
  const lanesFor = (passingRng: number) =>
    config.WORKER_CONCURRENCY === 'auto' ? Math.max(LANES_PER_RNG, LANES_PER_RNG * passingRng) : config.WORKER_CONCURRENCY;
  const loop = new MiningLoop({
    concurrency: lanesFor(rngInstances.instances().length),
    iteration: async () => {
      const mined = await mineOnce(rng, hasher, { bytesPerHash: config.RNG_BYTES, coinPrefix: config.COIN_PREFIX });
      counters.record(mined);
    },
    onError: (error, failures) => {
      const labels =
        error instanceof MiningFailure ? { upstream: error.upstream, reason: error.reason } : { upstream: 'other', reason: 'other' };
      failedIterations.inc(labels);
      // While this process stops, its upstreams may be leaving too (make dev stops everything at
      // once): an iteration that loses its hasher then is expected, not worth a warning.
      if (loop.stopRequested) {
        logger.debug({ err: (error as Error).message, ...labels }, 'mining iteration failed while stopping');
      } else if (failures === 1) {
        // A single failure is routine (an upstream that just left, seen a moment before this
        // process hears its own stop signal when the whole stack stops): the retry settles it.
        logger.info({ err: (error as Error).message, ...labels, failures }, 'mining iteration failed; retrying after a backoff');
      } else if (failures === 2 || failures % 50 === 0) {
        // One warning once a lane keeps failing, then every 50th, not one per attempt.
        logger.warn({ err: (error as Error).message, ...labels, failures }, 'mining iteration failed; backing off');
      }
    },
  });

  let flushTimer: NodeJS.Timeout | undefined;
  let flushFailing = false;
  const flush = async () => {
    const ok = await counters.flush();
    // Only a write Redis refused is worth a warning: a flush that wrote all it took while mining
    // recorded more meanwhile also answers false (those wait for the next flush).
    if (counters.writeFailing !== flushFailing) {
      flushFailing = counters.writeFailing;
      if (flushFailing) logger.warn({ unflushed: counters.unflushedHashes }, 'cannot write counts to redis; keeping them for the next flush');
      else logger.info({ flushed: counters.flushed.hashes }, 'counts written to redis again');
    }
    return ok;
  };

  return {
    routes: workerRoutes({
      serviceId: ctx.serviceId,
      counters,
      loop,
      settings: {
        concurrency: config.WORKER_CONCURRENCY,
        coinPrefix: config.COIN_PREFIX,
        bytesPerHash: config.RNG_BYTES,
        flushIntervalMs: config.WORKER_FLUSH_INTERVAL_MS,
      },
    }),
    onStarted() {
      // Outgoing work stops first, before this instance deregisters (see ctx.shuttingDown).
      ctx.shuttingDown.addEventListener('abort', () => loop.requestStop(), { once: true });
      loop.start();
      rngInstances.subscribe((passing) => {
        const lanes = lanesFor(passing.length);
        if (lanes === loop.concurrency) return;
        loop.resize(lanes);
        logger.info({ lanes, passingRng: passing.length }, 'mining lanes follow the rng instances');
      });
      flushTimer = setInterval(() => void flush(), config.WORKER_FLUSH_INTERVAL_MS);
      logger.info({ concurrency: config.WORKER_CONCURRENCY, lanes: loop.concurrency, rng: rng.service, hasher: hasher.service }, 'mining started');
    },
    async onShutdown({ signal, budgetMs }) {
      clearInterval(flushTimer);
      // Half the budget for the lanes' last iterations, the rest for writing every count.
      const drained = await loop.stop(Math.min(STOP_TIMEOUT_MS, budgetMs / 2));
      counters.close();
      let ok = false;
      for (let attempt = 1; attempt <= FINAL_FLUSH_ATTEMPTS && !ok && !signal.aborted; attempt++) {
        ok = await flush();
        if (!ok) await sleep(200 * attempt, signal);
      }
      const totals = { produced: counters.produced, flushed: counters.flushed };
      if (ok) logger.info({ ...totals, drained }, 'mining stopped; every count written');
      else logger.error({ ...totals, drained }, 'mining stopped; some counts could not be written to redis');
    },
  };
}
