/**
 * Outages on purpose: stop one of the shared infrastructure components (Consul's dev agent,
 * MariaDB, Redis) the way an operator or a crash would, and start it again with
 * `scripts/infra.sh start <component>`. For the files that run last (zz-*) and the chaos suite;
 * each restarts what it stopped in afterAll, whatever happened.
 */
import { execFile } from 'node:child_process';
import { createConnection } from 'node:net';
import { promisify } from 'node:util';
import { CONSUL } from './consul.js';
import { REPO_ROOT } from './processes.js';
import { waitFor } from './wait.js';

const run = promisify(execFile);

export type Component = 'consul' | 'mariadb' | 'redis';

const PORTS = { mariadb: 3306, redis: 6379 } as const;

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(1_000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(false));
  });
}

/** The component answers: Consul has a leader; MariaDB and Redis accept connections. */
export async function componentUp(component: Component): Promise<boolean> {
  if (component !== 'consul') return accepts(PORTS[component]);
  try {
    const response = await fetch(`${CONSUL}/v1/status/leader`, { signal: AbortSignal.timeout(1_000) });
    return response.ok && (await response.text()).length > 2;
  } catch {
    return false;
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The running process: Consul only if scripts/infra.sh started it (we never stop someone else's agent). */
async function pidOf(component: Component): Promise<number> {
  const { stdout } =
    component === 'consul'
      ? await run('bash', ['scripts/infra.sh', 'pid', 'consul'], { cwd: REPO_ROOT }).catch((error: Error) => {
          throw new Error(`cannot simulate an outage: Consul was not started by scripts/infra.sh (${error.message})`);
        })
      : await run('pgrep', ['-xo', component === 'mariadb' ? 'mariadbd' : 'redis-server']).catch(() => {
          throw new Error(`cannot simulate an outage: no ${component} process is running`);
        });
  return Number(stdout.trim());
}

/** Stops the component with `signal` (SIGTERM: a clean stop; SIGKILL: a crash) and waits until it is gone. */
export async function stopComponent(component: Component, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const pid = await pidOf(component);
  process.kill(pid, signal);
  await waitFor(`${component} to stop`, async () => !alive(pid) && !(await componentUp(component)), { timeoutMs: 60_000, intervalMs: 50 });
}

export async function startComponent(component: Component): Promise<void> {
  await run('bash', ['scripts/infra.sh', 'start', component], { cwd: REPO_ROOT, timeout: 120_000 });
}

/** Starts the component again if it is down (for afterAll). */
export async function ensureUp(component: Component): Promise<void> {
  if (!(await componentUp(component))) await startComponent(component);
}
