/**
 * A closed-loop load: `concurrency` callers, each sending its next request as soon as the last
 * one answered, for `durationMs`. Records every request's latency, so a window gives throughput
 * and percentiles at once. Failed requests are counted, never silently dropped from the figures.
 */
import { readFileSync } from 'node:fs';
import { percentile } from './report.js';

export interface LoadWindow {
  requests: number;
  failures: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** `call` resolves true for a good answer, false for a bad one (it must not throw). */
export async function closedLoop(call: () => Promise<boolean>, concurrency: number, durationMs: number): Promise<LoadWindow> {
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const sent = performance.now();
        const ok = await call();
        latencies.push(performance.now() - sent);
        if (!ok) failures += 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return {
    requests: latencies.length,
    failures,
    perSecond: latencies.length / seconds,
    p50Ms: latencies.length ? percentile(latencies, 50) : 0,
    p99Ms: latencies.length ? percentile(latencies, 99) : 0,
  };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces, hence the last ')'): utime is the 12th, stime the 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** USER_HZ: 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

export interface OpenLoopWindow {
  /** Calls started. */
  started: number;
  /** Achieved start rate over the window (calls per second). */
  perSecond: number;
  /** How late calls started against their schedule (the load generator's own lag): p99 and max. */
  lagP99Ms: number;
  lagMaxMs: number;
}

/**
 * An open-loop load: call `index` is due at `index / ratePerSecond` seconds from the start,
 * whether earlier calls have answered or not (a closed loop would slow down with the system under
 * test and hide its queueing). Every due call is started as soon as the loop wakes, so timer
 * granularity bunches calls by a millisecond or two but never lowers the rate; how late calls
 * started is reported, since a load generator short of CPU shows up there first. Resolves when
 * every call has settled. `call` must not throw.
 */
export async function openLoop(call: (index: number) => Promise<void>, ratePerSecond: number, durationMs: number): Promise<OpenLoopWindow> {
  const total = Math.floor((ratePerSecond * durationMs) / 1000);
  const lags: number[] = [];
  const inFlight: Array<Promise<void>> = [];
  const started = performance.now();
  let next = 0;
  while (next < total) {
    const now = performance.now();
    for (; next < total && started + (next * 1000) / ratePerSecond <= now; next++) {
      lags.push(now - (started + (next * 1000) / ratePerSecond));
      inFlight.push(call(next));
    }
    if (next < total) await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + (next * 1000) / ratePerSecond - performance.now())));
  }
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(inFlight);
  return {
    started: total,
    perSecond: total / Math.max(seconds, durationMs / 1000),
    lagP99Ms: lags.length ? percentile(lags, 99) : 0,
    lagMaxMs: lags.length ? Math.max(...lags) : 0,
  };
}

/**
 * CPU seconds the whole machine has spent busy so far (every core, every process), from
 * /proc/stat (Linux). Against the processes a bench measures, the difference is what else ran:
 * a figure taken while something else loads the machine says so.
 */
export function machineBusySeconds(): number {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/);
  // user nice system idle iowait irq softirq steal (guest time is already inside user and nice).
  const [user, nice, system, , , irq, softirq, steal] = fields.map(Number);
  return (user! + nice! + system! + irq! + softirq! + (steal ?? 0)) / CLOCK_TICKS_PER_SECOND;
}

/**
 * Waits (at most `timeoutMs`) until the rest of the machine keeps at most `maxCores` cores busy
 * over a one-second sample: everything but the processes whose CPU seconds `ours` sums. Returns
 * the last sample. Other sessions' builds and tests come and go; measuring between them beats
 * measuring through them.
 */
export async function waitForQuiet(ours: () => number, maxCores: number, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const [machineBefore, oursBefore, startedAt] = [machineBusySeconds(), ours(), performance.now()];
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const seconds = (performance.now() - startedAt) / 1000;
    const other = Math.max(0, machineBusySeconds() - machineBefore - (ours() - oursBefore)) / seconds;
    if (other <= maxCores || performance.now() > deadline) return other;
  }
}
