import type { Logger } from 'pino';
import { backoffDelay, sleep } from '../backoff.js';
import { httpStatusOf, refusalReason } from './agent-errors.js';
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
  /** Port Consul polls when health is served apart from the service port (the gateway's admin port). */
  checkPort?: number;
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
    let refusals = 0;
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        // A retry may come long after the probe that allowed the first try: ask again.
        const ready = attempt === 0 || ((await this.options.isReady?.().catch(() => false)) ?? true);
        if (this.stopped) return;
        await this.register(ready ? 'passing' : 'critical');
        return;
      } catch (error) {
        let delay = backoffDelay(attempt, { baseMs: 200, maxMs: 5_000 });
        const status = httpStatusOf(error);
        const refused = refusalReason(error, this.options.consul.hasToken);
        if (refused !== undefined) {
          // ACLs: only an operator fixes this (a policy change applies live), so one clear line
          // per streak and a slow retry, not a line every few seconds.
          delay = backoffDelay(refusals, { baseMs: 5_000, maxMs: 60_000 });
          refusals += 1;
          this.options.logger?.[refusals === 1 ? 'error' : 'debug'](
            { registrationId: this.registration.id, status, retryInMs: delay },
            `consul refused to register ${this.registration.id}: ${refused}`,
          );
        } else if (status !== undefined && status >= 400 && status < 500) {
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
    const checkUrl = `${instanceOrigin({ address: r.address, port: r.checkPort ?? r.port })}${r.checkPath ?? '/health/ready'}`;
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

  /**
   * An agent that restarted with its data dir still knows us, but it restarts our check as
   * critical until the check's first run, up to an interval later; and a registration on top of
   * an existing check keeps the check's status (measured on Consul 1.14). When our probes pass,
   * the entry is dropped and registered afresh as passing, so we are routable again at once.
   */
  private async refreshAfterAgentRestart(): Promise<void> {
    const ready = (await this.options.isReady?.().catch(() => false)) ?? true;
    if (this.stopped || !ready) return;
    this.options.logger?.info({ registrationId: this.registration.id }, 'the consul agent is back; registering afresh as passing');
    await this.options.consul.agent.service.deregister({ id: this.registration.id, timeout: 1_000 } as never);
    if (this.stopped) return;
    await this.register('passing');
  }

  private async keepRegistered(): Promise<void> {
    const every = this.options.heartbeatMs ?? 1_000;
    /** The last failure logged, so a lasting one (e.g. a revoked token) is one line, not one a second. */
    let lastFailure: string | undefined;
    /** The agent did not answer at all since the last successful round (down, restarting). */
    let agentWasDown = false;
    while (!this.stopped) {
      await sleep(every, this.stop.signal);
      if (this.stopped) return;
      try {
        // Our own entry only: listing every service of the agent each second costs it (and us)
        // in proportion to everything else registered there.
        const known = await this.options.consul.agentService(this.registration.id, 1_000);
        if (this.stopped) return;
        if (known === undefined) {
          const ready = (await this.options.isReady?.().catch(() => false)) ?? true;
          if (this.stopped) return;
          this.options.logger?.warn(
            { registrationId: this.registration.id, ready },
            `consul lost our registration; registering again as ${ready ? 'passing' : 'critical'}`,
          );
          await this.register(ready ? 'passing' : 'critical');
        } else if (agentWasDown) {
          await this.refreshAfterAgentRestart();
        }
        agentWasDown = false;
        lastFailure = undefined;
      } catch (error) {
        // Only a refused connection says the agent process was gone; a slow answer (timeout)
        // must not make us drop and re-add our entry.
        if (connectionRefused(error)) agentWasDown = true;
        // Agent down: the next round tries again (the watchers log the outage). An agent that
        // answers and still fails us is worth a line.
        if (httpStatusOf(error) !== undefined) {
          const reason = refusalReason(error, this.options.consul.hasToken) ?? (error as Error).message;
          if (reason !== lastFailure) {
            this.options.logger?.warn({ registrationId: this.registration.id, err: reason }, `checking our consul registration failed: ${reason}`);
          }
          lastFailure = reason;
        }
      }
    }
  }
}

function connectionRefused(error: unknown): boolean {
  const e = error as { code?: string; message?: string; cause?: { code?: string } } | undefined;
  return e?.code === 'ECONNREFUSED' || e?.cause?.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(e?.message ?? '');
}
