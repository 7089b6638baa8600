import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { StopWaiting, waitFor } from './wait.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServiceProcess {
  child: ChildProcess;
  /** Resolves with the exit code and signal once the process has ended and its output is complete. */
  exited: Promise<Exit>;
  /** Everything the process wrote so far (stdout + stderr). */
  output(): string;
  /**
   * The `serviceId` and ports it logged when it started listening. Fails at once, with the
   * process's output, if it exits before that.
   */
  listening(): Promise<{ serviceId: string; port: number; adminPort?: number }>;
  /**
   * Throws StopWaiting with the process's output if it has ended although nobody asked it to
   * stop (a crash, a bad config): for probes of waits that need it running.
   */
  assertRunning(): void;
  /**
   * Sends `signal` and resolves once the process has ended. Fails with its output if it is still
   * running `timeoutMs` later (it is then killed, so nothing is left behind).
   */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
}

const running = new Set<ServiceProcess>();

/** Generous: a graceful stop deregisters, waits a grace period and drains (10 s at most). */
const STOP_TIMEOUT_MS = 20_000;

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
      // The gateway's admin listener (/health, /metrics) defaults to a fixed port; tests take any.
      ADMIN_PORT: '0',
      CONSUL_HTTP_ADDR: 'http://127.0.0.1:8500',
      LOG_LEVEL: 'info',
      // Every line as it happens: tests wait on log lines, and those that check a secret never
      // reached the log must see every line written, not all but the last 100 ms of them.
      LOG_FLUSH_MS: '0',
      OTEL_EXPORTER_OTLP_ENDPOINT: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  let ended: Exit | undefined;
  let stopAsked = false;
  child.stdout!.on('data', (chunk) => (text += chunk));
  child.stderr!.on('data', (chunk) => (text += chunk));
  // 'close', not 'exit': only then has all the output been read.
  const exited = new Promise<Exit>((resolve) =>
    child.once('close', (code, signal) => {
      ended = { code, signal };
      resolve(ended);
    }),
  );
  const describe = (exit: Exit) =>
    `${entry} exited (code ${exit.code}, signal ${exit.signal}); its output:\n${text.slice(-4000)}`;

  const handle: ServiceProcess = {
    child,
    exited,
    output: () => text,
    listening() {
      return waitFor(`${entry} to listen`, () => {
        if (ended) throw new StopWaiting(describe(ended));
        for (const line of text.split('\n')) {
          if (!line.includes('"serviceId"') || !line.includes('listening')) continue;
          const parsed = JSON.parse(line) as { serviceId: string; port: number; adminPort?: number };
          return { serviceId: parsed.serviceId, port: parsed.port, adminPort: parsed.adminPort };
        }
        return undefined;
      }, { timeoutMs: 30_000 });
    },
    assertRunning() {
      if (ended && !stopAsked) throw new StopWaiting(describe(ended));
    },
    async stop(signal = 'SIGTERM', timeoutMs = STOP_TIMEOUT_MS) {
      stopAsked = true;
      if (!ended) child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(resolve, timeoutMs, 'late')));
      const result = await Promise.race([exited, late]);
      clearTimeout(timer);
      if (result === 'late') {
        child.kill('SIGKILL');
        await exited;
        throw new Error(`${entry} did not exit within ${timeoutMs} ms of ${signal}; its output:\n${text.slice(-4000)}`);
      }
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
