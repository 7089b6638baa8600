/**
 * A private set of real services behind a real gateway for one test file: every upstream runs
 * under its own Consul name (`rng-<suffix>`, via MINER_SERVICE_SUFFIX) and the gateway calls
 * those names (UPSTREAM_SUFFIX), so concurrent runs by other engineers never meet ours.
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
  rng: 'miner/src/rng/main.ts',
  webui: 'miner/src/webui/main.ts',
} as const;

export class PrivateStack {
  readonly suffix = `-${uniqueName('gw')}`;
  private readonly started: ServiceProcess[] = [];

  async start(service: keyof typeof ENTRY, env: Record<string, string> = {}): Promise<Running> {
    const process = startProcess(ENTRY[service], {
      UPSTREAM_SUFFIX: this.suffix,
      MINER_SERVICE_SUFFIX: this.suffix,
      MINER_REDIS_PREFIX: `test:${this.suffix}:`,
      ...env,
    });
    this.started.push(process);
    return { process, ...(await process.listening()) };
  }

  /** Starts `count` rng instances and waits until Consul lists all of them as passing. */
  async startRngs(count: number, env: Record<string, string> = {}): Promise<Running[]> {
    const rngs = await Promise.all(Array.from({ length: count }, () => this.start('rng', { RNG_DELAY_MS: '5', ...env })));
    const ids = rngs.map((r) => r.serviceId).sort();
    await waitFor(`${count} passing rng${this.suffix}`, async () => {
      const passing = await passingIds(`rng${this.suffix}`);
      return ids.every((id) => passing.includes(id));
    });
    return rngs;
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

export async function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
  return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
}

export function json(answer: Answer): any {
  return JSON.parse(answer.body.toString('utf8'));
}
