/**
 * A private set of real services behind a real gateway for one test file: every process gets the
 * same SERVICE_NAME_SUFFIX, so each registers as `<name><suffix>` and calls `<upstream><suffix>`
 * (infra does both), and concurrent runs by other engineers never meet ours.
 */
import { passingIds } from '../../test/support/consul.js';
import { startProcess, stopAllProcesses, type ServiceProcess } from '../../test/support/processes.js';
import { uniqueName, waitFor } from '../../test/support/wait.js';

export interface Running {
  process: ServiceProcess;
  serviceId: string;
  port: number;
}

const ENTRY = {
  gateway: 'gateway/src/main.ts',
  /** The real gateway with extra test-only routes to `echo`. */
  'gateway-with-echo': 'gateway/test/fixtures/gateway-with-echo.ts',
  echo: 'gateway/test/fixtures/echo-upstream.ts',
  rng: 'miner/src/rng/main.ts',
  webui: 'miner/src/webui/main.ts',
} as const;

export class PrivateStack {
  readonly suffix = `-${uniqueName('gw')}`;
  private readonly started: ServiceProcess[] = [];

  async start(service: keyof typeof ENTRY, env: Record<string, string> = {}): Promise<Running> {
    const process = startProcess(ENTRY[service], {
      SERVICE_NAME_SUFFIX: this.suffix,
      MINER_REDIS_PREFIX: `test:${this.suffix}:`,
      ...env,
    });
    this.started.push(process);
    return { process, ...(await process.listening()) };
  }

  /** Starts `count` rng instances (5 ms each unless `env` says otherwise), passing in Consul. */
  startRngs(count: number, env: Record<string, string> = {}): Promise<Running[]> {
    return this.startPassing('rng', count, { RNG_DELAY_MS: '5', ...env });
  }

  /** Starts `count` instances of `service` and waits until Consul lists all of them as passing. */
  async startPassing(service: 'rng' | 'echo', count: number, env: Record<string, string> = {}): Promise<Running[]> {
    const started = await Promise.all(Array.from({ length: count }, () => this.start(service, env)));
    const ids = started.map((r) => r.serviceId).sort();
    await waitFor(`${count} passing ${service}${this.suffix}`, async () => {
      const passing = await passingIds(`${service}${this.suffix}`);
      return ids.every((id) => passing.includes(id));
    });
    return started;
  }

  /** Graceful stop (each deregisters), then SIGKILL for anything that did not exit. */
  async stopAll(): Promise<void> {
    await Promise.all(
      this.started.map((p) =>
        Promise.race([p.stop('SIGTERM'), new Promise((resolve) => setTimeout(resolve, 15_000).unref())]),
      ),
    );
    await stopAllProcesses();
  }
}

export interface Answer {
  status: number;
  headers: Headers;
  body: Buffer;
}

export function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return send(port, path, { headers });
}

export async function send(port: number, path: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, init);
  return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
}

export function json(answer: Answer): any {
  return JSON.parse(answer.body.toString('utf8'));
}

/**
 * The sum of Prometheus sample `name` on a process's /metrics over the series whose labels
 * include all of `labels` (0 when there is none).
 */
export async function metric(port: number, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const series = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => series[key] === value)) sum += Number(match[3]);
  }
  return sum;
}
