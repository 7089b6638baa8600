/**
 * The one launcher of real service processes for the integration tests and benchmarks.
 *
 * `launch` starts one entry point and waits until it listens. An `IsolatedStack` starts private
 * copies of several services: every process it starts gets the same SERVICE_NAME_SUFFIX (infra
 * appends it to the name an instance registers under and to every name it discovers) and
 * MINER_REDIS_PREFIX, so concurrent runs on the shared Consul and Redis never route to, or count
 * into, each other's services. Every wait on a stack fails at once, with the process's output,
 * when one of its processes exits without having been asked to.
 */
import { passingIds } from './consul.js';
import { startProcess, type ServiceProcess } from './processes.js';
import { uniqueName, waitFor } from './wait.js';

export interface Running {
  process: ServiceProcess;
  serviceId: string;
  port: number;
  /** The admin listener (/health, /metrics) of the services that have one. */
  adminPort?: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
}

/** Starts `entry` (see startProcess) and waits until it listens; fails at once if it exits first. */
export function launch(entry: string, env: Record<string, string> = {}): Promise<Running> {
  return whenListening(startProcess(entry, env));
}

async function whenListening(process: ServiceProcess): Promise<Running> {
  const { serviceId, port, adminPort } = await process.listening();
  return { process, serviceId, port, adminPort, url: `http://127.0.0.1:${port}` };
}

/** A graceful stop deregisters, waits a short grace and drains; past this, the process is killed. */
const GRACEFUL_STOP_MS = 10_000;

export class IsolatedStack<Service extends string> {
  readonly suffix = `-${uniqueName('t')}`;
  /** The miner's Redis keys in this stack start with it. */
  readonly redisPrefix = `test:${this.suffix.slice(1)}:`;
  private readonly processes: ServiceProcess[] = [];

  /**
   * `entries`: the entry point of each service this stack can start. `env`: variables for every
   * process it starts (a `start` call's own `env` wins).
   */
  constructor(
    private readonly entries: Record<Service, string>,
    private readonly env: Record<string, string> = {},
  ) {}

  /** The Consul name of `service` in this stack. */
  name(service: string): string {
    return `${service}${this.suffix}`;
  }

  /** Starts one instance of `service` and waits until it listens. */
  start(service: Service, env: Record<string, string> = {}): Promise<Running> {
    const process = startProcess(this.entries[service], {
      SERVICE_NAME_SUFFIX: this.suffix,
      MINER_REDIS_PREFIX: this.redisPrefix,
      ...this.env,
      ...env,
    });
    this.processes.push(process);
    return whenListening(process);
  }

  /** Starts `count` (≥ 1) instances of `service` and waits until Consul lists all of them as passing. */
  async startPassing(service: Service, count: number, env: Record<string, string> = {}): Promise<[Running, ...Running[]]> {
    if (!(count >= 1)) throw new RangeError(`startPassing: count must be at least 1, not ${count}`);
    const [first, ...others] = await Promise.all(Array.from({ length: count }, () => this.start(service, env)));
    const started: [Running, ...Running[]] = [first!, ...others];
    await this.waitPassing(service, (ids) => started.every((r) => ids.includes(r.serviceId)));
    return started;
  }

  /** Waits until the ids of the passing instances of `service` satisfy `condition`, and returns them. */
  waitPassing(service: string, condition: (ids: string[]) => boolean): Promise<string[]> {
    return this.waitFor(`passing ${this.name(service)} instances`, async () => {
      // Asked of the agent this stack's processes use (a cluster's client agent, in the chaos suite).
      const ids = await passingIds(this.name(service), this.env.CONSUL_HTTP_ADDR);
      return condition(ids) && ids;
    });
  }

  /** Like waitFor, but fails at once (with its output) when a process of this stack exited unasked. */
  waitFor<T>(
    what: string,
    probe: () => T | undefined | false | Promise<T | undefined | false>,
    options?: { timeoutMs?: number; intervalMs?: number },
  ): Promise<T> {
    return waitFor(
      what,
      () => {
        for (const process of this.processes) process.assertRunning();
        return probe();
      },
      options,
    );
  }

  /**
   * Stops every process of this stack, all at once and gracefully (each deregisters from Consul
   * rather than leaving a critical entry behind); one that overruns is killed. Never throws:
   * cleanup must not hide a test's own failure.
   */
  async stopAll(): Promise<void> {
    await Promise.allSettled(this.processes.map((process) => process.stop('SIGTERM', GRACEFUL_STOP_MS)));
  }
}
