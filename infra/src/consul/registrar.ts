import type { Logger } from 'pino';
import { backoffDelay, sleep } from '../backoff.js';
import type { ConsulClient } from './client.js';
import { instanceOrigin } from '../sd/instance.js';

export interface Registration {
  id: string;
  name: string;
  address: string;
  port: number;
  tags?: string[];
  meta?: Record<string, string>;
  /** Path Consul polls; defaults to the readiness probe. */
  checkPath?: string;
}

export interface RegistrarOptions {
  consul: ConsulClient;
  logger?: Logger;
  checkIntervalSeconds?: number;
  checkTimeoutSeconds?: number;
  /** How often the agent is asked whether it still knows us (re-registration after an agent restart). */
  heartbeatMs?: number;
  /**
   * Whether the instance is ready right now. A re-registration (after the agent forgot us, e.g.
   * DeregisterCriticalServiceAfter reaped us during a long dependency outage) starts "passing"
   * only when this says so; otherwise "critical", and Consul's own check promotes it later.
   */
  isReady?: () => Promise<boolean>;
}

/**
 * Makes one instance a good Consul citizen: registers it (after it listens and its ready probe
 * passed, so the check's initial "passing" is honest and the instance is routable within
 * milliseconds), re-registers if the agent forgets it, and deregisters first on shutdown.
 */
export class Registrar {
  private stopped = false;
  private registered = false;
  private readonly stop = new AbortController();
  private heartbeat: Promise<void> | undefined;
  /** The registration call in flight, if any (see deregister). */
  private pending: Promise<void> | undefined;

  constructor(
    private readonly registration: Registration,
    private readonly options: RegistrarOptions,
  ) {}

  get serviceId(): string {
    return this.registration.id;
  }

  /**
   * Registers, retrying with backoff while the agent is unreachable (logging each failure, never
   * crashing), then keeps watching that the registration still exists. Resolves on the first
   * successful registration.
   */
  async start(): Promise<void> {
    await this.registerUntilDone();
    this.heartbeat = this.keepRegistered();
  }

  /** Deregisters (bounded in time: an unreachable agent must not block shutdown). */
  async deregister(timeoutMs = 2_000): Promise<void> {
    this.stopped = true;
    this.stop.abort();
    // A registration already on the wire (first start, or the heartbeat re-registering after an
    // agent restart) would land after our deregistration and leave a ghost entry for a process
    // that is gone; wait for it (it is bounded by its own timeout) so we deregister after it.
    await this.pending?.catch(() => {});
    if (!this.registered) return;
    try {
      await this.options.consul.agent.service.deregister({ id: this.registration.id, timeout: timeoutMs } as never);
      this.registered = false;
      this.options.logger?.info({ registrationId: this.registration.id }, 'deregistered from consul');
    } catch (error) {
      // DeregisterCriticalServiceAfter removes us within ~1-2 min anyway.
      this.options.logger?.warn({ registrationId: this.registration.id, err: (error as Error).message }, 'deregistration failed');
    }
    await this.heartbeat;
  }

  private async registerUntilDone(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        // A retry may come long after the probe that allowed the first try: ask again.
        const ready = attempt === 0 || ((await this.options.isReady?.().catch(() => false)) ?? true);
        if (this.stopped) return;
        await this.register(ready ? 'passing' : 'critical');
        return;
      } catch (error) {
        const delay = backoffDelay(attempt, { baseMs: 200, maxMs: 5_000 });
        const status = httpStatusOf(error);
        if (status !== undefined && status >= 400 && status < 500) {
          // The agent answered and refused: retrying will not fix the registration by itself.
          this.options.logger?.error(
            { registrationId: this.registration.id, status, err: (error as Error).message, retryInMs: delay },
            `consul rejected the registration of ${this.registration.id}; check ADVERTISE_ADDR and the service name`,
          );
        } else {
          this.options.logger?.warn(
            { registrationId: this.registration.id, err: (error as Error).message, retryInMs: delay },
            `consul unreachable: cannot register ${this.registration.id} yet, retrying`,
          );
        }
        await sleep(delay, this.stop.signal);
      }
    }
  }

  private async register(status: 'passing' | 'critical' = 'passing'): Promise<void> {
    const call = this.send(status);
    this.pending = call;
    try {
      await call;
    } finally {
      if (this.pending === call) this.pending = undefined;
    }
  }

  private async send(status: 'passing' | 'critical'): Promise<void> {
    const r = this.registration;
    const checkUrl = `${instanceOrigin(r)}${r.checkPath ?? '/health/ready'}`;
    await this.options.consul.agent.service.register({
      id: r.id,
      name: r.name,
      address: r.address,
      port: r.port,
      tags: r.tags ?? [],
      meta: r.meta ?? {},
      check: {
        http: checkUrl,
        interval: `${this.options.checkIntervalSeconds ?? 2}s`,
        timeout: `${this.options.checkTimeoutSeconds ?? 1}s`,
        deregistercriticalserviceafter: '1m',
        // The first registration happens only once the ready probe passed: starting "passing"
        // makes the instance routable in milliseconds instead of after Consul's staggered first
        // check (reference §7). Re-registrations say what the probes say at that moment.
        status,
      },
      timeout: 2_000,
    } as never);
    this.registered = true;
    this.options.logger?.info({ registrationId: r.id, address: r.address, port: r.port }, `registered ${r.id} in consul`);
  }

  private async keepRegistered(): Promise<void> {
    const every = this.options.heartbeatMs ?? 1_000;
    while (!this.stopped) {
      await sleep(every, this.stop.signal);
      if (this.stopped) return;
      try {
        const services = (await this.options.consul.agent.service.list({ timeout: 1_000 } as never)) as Record<string, unknown>;
        if (this.stopped) return;
        if (!(this.registration.id in services)) {
          const ready = (await this.options.isReady?.().catch(() => false)) ?? true;
          if (this.stopped) return;
          this.options.logger?.warn(
            { registrationId: this.registration.id, ready },
            `consul lost our registration; registering again as ${ready ? 'passing' : 'critical'}`,
          );
          await this.register(ready ? 'passing' : 'critical');
        }
      } catch (error) {
        // Agent down: the next round tries again (the watchers log the outage). An agent that
        // answers and still fails us is worth a line.
        if (httpStatusOf(error) !== undefined) {
          this.options.logger?.warn({ registrationId: this.registration.id, err: (error as Error).message }, 're-registration failed');
        }
      }
    }
  }
}

/** The HTTP status of a Consul client error when the agent answered; undefined for network errors. */
function httpStatusOf(error: unknown): number | undefined {
  const status = (error as { response?: { statusCode?: number } } | undefined)?.response?.statusCode;
  return typeof status === 'number' ? status : undefined;
}
