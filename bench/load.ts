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
