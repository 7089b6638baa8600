/**
 * A service started by a supervisor (`make dev`, `make instance`) must not outlive it. When the
 * supervisor dies without stopping its children (its output pipe closed under it, e.g.
 * `make dev | tee dev.log` and Ctrl-C, or a `kill -9`), the services would stay running,
 * orphaned and still registered in Consul, and the next `make dev` would find its ports taken.
 * The supervisor passes its pid in SUPERVISOR_PID; the service checks that it still exists, and
 * that its own parent is still the one it started under (`make dev` runs services under
 * `concurrently`, which dies when its output pipe breaks, maybe before it forwarded the stop to
 * every service), and stops gracefully (deregister, drain) once either is gone. Polling, because
 * Linux tells a child about its parent's death only through prctl(PR_SET_PDEATHSIG), which Node
 * does not expose; `process.ppid` is read afresh on each access.
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
 * Calls `onGone` once, within `everyMs`, after process `pid` has ended or this process's parent
 * has (it was re-parented). Returns a function that stops watching. The timer is unref'd:
 * watching never keeps a process alive by itself.
 */
export function watchSupervisor(pid: number, onGone: (reason: string) => void, everyMs = 500): () => void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    const reason = !processExists(pid) ? `its supervisor (pid ${pid}) is gone` : process.ppid !== parent ? `its parent (pid ${parent}) is gone` : undefined;
    if (reason === undefined) return;
    clearInterval(timer);
    onGone(reason);
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
