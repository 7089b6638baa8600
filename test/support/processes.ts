import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ServiceProcess {
  child: ChildProcess;
  /** Resolves with the exit code and signal once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything the process wrote so far (stdout + stderr). */
  output(): string;
  /** The `serviceId` and `port` it logged when it started listening. */
  listening(): Promise<{ serviceId: string; port: number }>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ServiceProcess>();

/**
 * Starts a TypeScript entry point as a real child process on the project's Node 24 (tsx loader),
 * with PORT=0 and the local Consul unless `env` says otherwise.
 */
export function startProcess(entry: string, env: Record<string, string> = {}): ServiceProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      PORT: '0',
      CONSUL_HTTP_ADDR: 'http://127.0.0.1:8500',
      LOG_LEVEL: 'info',
      OTEL_EXPORTER_OTLP_ENDPOINT: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (chunk) => (text += chunk));
  child.stderr!.on('data', (chunk) => (text += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const handle: ServiceProcess = {
    child,
    exited,
    output: () => text,
    async listening() {
      return waitFor(`${entry} to listen`, () => {
        if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}: ${text.slice(-2000)}`);
        for (const line of text.split('\n')) {
          if (!line.includes('"serviceId"') || !line.includes('listening')) continue;
          const parsed = JSON.parse(line) as { serviceId: string; port: number };
          return { serviceId: parsed.serviceId, port: parsed.port };
        }
        return undefined;
      }, { timeoutMs: 30_000 });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const result = await exited;
      running.delete(handle);
      return result;
    },
  };
  exited.then(() => running.delete(handle));
  running.add(handle);
  return handle;
}

/** Kills whatever a test left running (SIGKILL: cleanup must not wait on a drain). */
export async function stopAllProcesses(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop('SIGKILL')));
}
