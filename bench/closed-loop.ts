/**
 * A closed-loop driver for in-process benchmarks: `concurrency` callers, each making its next
 * call as soon as its last one answered, until `requests` calls were made. Returns the rate and
 * this process's CPU per call, which measures a change even when the machine's load moves the rate.
 */
export interface ClosedLoopResult {
  rps: number;
  /** User + system CPU of this process per call, µs. */
  cpuUs: number;
  userUs: number;
  systemUs: number;
}

export async function closedLoop(call: () => Promise<unknown>, requests: number, concurrency: number): Promise<ClosedLoopResult> {
  let remaining = requests;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (remaining-- > 0) await call();
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { rps: requests / seconds, cpuUs: (used.user + used.system) / requests, userUs: used.user / requests, systemUs: used.system / requests };
}
