import type { z } from 'zod';
import { ConfigError } from '../config.js';
import { StartAborted, startService } from './lifecycle.js';
import type { RunningService, ServiceSpec } from './service-spec.js';
import { supervisorPid, watchSupervisor } from './supervisor.js';

/** The hard stop when nothing else worked: the budgets of the shutdown steps sit inside it. */
const DEFAULT_TIMEOUT_MS = 25_000;

/**
 * The entry point of a service's main.ts, and the process's signal policy. Signal handlers come
 * first, before anything starts: a SIGTERM during start stops the start (nothing gets registered
 * for a process that is leaving) instead of killing it halfway. Exits 0 after a graceful
 * shutdown, 1 with one clear line on bad configuration or a failed start, 1 when shutdown
 * overran SHUTDOWN_TIMEOUT_MS, 130 on a second signal. SIGHUP (the terminal went away) stops it
 * like SIGTERM, and so does the end of its supervisor (SUPERVISOR_PID, see supervisor.ts).
 */
export async function runService<E extends z.ZodRawShape = {}>(spec: ServiceSpec<E>): Promise<void> {
  const stopRequested = new AbortController();
  let running: RunningService | undefined;
  let signals = 0;
  const starting = startService(spec, { stopRequested: stopRequested.signal });

  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      process.stderr.write(`${spec.name}: second ${signal}, exiting without waiting\n`);
      process.exit(130);
    }
    stopRequested.abort();
    // Whatever hangs (a setup that never returns, a store that never closes), exit in bounded time.
    const limit = running?.maxShutdownMs ?? timeoutFromEnv();
    setTimeout(() => {
      process.stderr.write(`${spec.name}: shutdown took longer than ${limit} ms, exiting\n`);
      process.exit(1);
    }, limit).unref();
    starting.then(
      (service) => service.shutdown().then(() => process.exit(0)),
      () => {}, // a failed or aborted start is reported below
    ).catch((error: unknown) => {
      process.stderr.write(`${spec.name}: shutdown failed: ${(error as Error).message}\n`);
      process.exit(1);
    });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', onSignal);
  // Output into a pipe whose reader is gone (a supervisor that died, `| tee` interrupted) fails
  // with EPIPE; unhandled, that error would kill the process before it deregisters.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
    });
  }
  let supervisor: number | undefined;
  try {
    supervisor = supervisorPid(process.env.SUPERVISOR_PID);
  } catch (error) {
    process.stderr.write(`${spec.name}: ${(error as Error).message}\n`);
    process.exit(1);
  }
  if (supervisor !== undefined) {
    watchSupervisor(supervisor, (reason) => {
      process.stderr.write(`${spec.name}: ${reason}; stopping\n`);
      if (signals === 0) onSignal('SIGTERM');
    });
  }
  // A crash still deregisters (bounded), so callers stop routing to us at once rather than after
  // Consul's check fails.
  process.on('uncaughtException', (error) => {
    process.stderr.write(`${spec.name}: fatal: ${error.stack ?? error}\n`);
    const exit = () => process.exit(1);
    setTimeout(exit, 3_000).unref();
    if (running) running.shutdown().finally(exit);
    else exit();
  });

  try {
    running = await starting;
  } catch (error) {
    if (error instanceof StartAborted) {
      process.stderr.write(`${error.message}\n`);
      process.exit(0);
    }
    const message = error instanceof ConfigError ? error.message : `failed to start: ${(error as Error).stack ?? error}`;
    process.stderr.write(`${spec.name}: ${message}\n`);
    process.exit(1);
  }
}

/** SHUTDOWN_TIMEOUT_MS before the config is parsed (a signal during start); invalid → the default. */
function timeoutFromEnv(): number {
  const value = Number(process.env.SHUTDOWN_TIMEOUT_MS);
  return Number.isInteger(value) && value >= 1_000 ? value : DEFAULT_TIMEOUT_MS;
}
