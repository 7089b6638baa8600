/**
 * A service started by a supervisor (`make dev`, `make instance`) must not outlive it. When the
 * supervisor dies without stopping its children (its output pipe closed under it, e.g.
 * `make dev | tee dev.log` and Ctrl-C, or a `kill -9`), the services would stay running,
 * orphaned and still registered in Consul, and the next `make dev` would find its ports taken.
 * The supervisor passes its pid in SUPERVISOR_PID; the service checks that it still exists and
 * stops gracefully (deregister, drain) once it is gone. Polling, because Linux tells a child
 * about its parent's death only through prctl(PR_SET_PDEATHSIG), which Node does not expose.
 */

/** Parses SUPERVISOR_PID: undefined when unset; an error for anything but a process id > 1. */
export function supervisorPid(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const pid = Number(value);
  if (!Number.isInteger(pid) || pid <= 1) {
    throw new Error(`SUPERVISOR_PID must be the process id of the supervisor (an integer > 1), got '${value}'`);
  }
  return pid;
}

/** True while process `pid` exists (EPERM: it exists but belongs to someone else). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Calls `onGone` once, within `everyMs`, after process `pid` has ended. Returns a function that
 * stops watching. The timer is unref'd: watching never keeps a process alive by itself.
 */
export function watchSupervisor(pid: number, onGone: () => void, everyMs = 500): () => void {
  const timer = setInterval(() => {
    if (processExists(pid)) return;
    clearInterval(timer);
    onGone();
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
