import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { backoffDelay, sleep, type BackoffOptions } from '../backoff.js';
import { healthyInstancesGauge } from '../metrics.js';
import type { Instance } from '../sd/instance.js';
import type { Instancer, InstancesListener } from '../sd/instancer.js';
import { isNewIndex, nextIndex } from './blocking-index.js';
import type { ConsulClient } from './client.js';
import { toInstance, type HealthEntry } from './health-entry.js';

export interface WatcherOptions {
  consul: ConsulClient;
  service: string;
  logger?: Logger;
  /**
   * Longest a blocking query waits for a change before Consul answers anyway (the "safety
   * refresh"). Changes arrive as soon as they happen; this only bounds how stale a silently
   * lost update could be.
   */
  waitSeconds?: number;
  /** Backoff between failed queries while Consul is unreachable. */
  backoff?: BackoffOptions;
  /**
   * After an outage, how long an empty answer is not trusted while we still hold instances. A
   * restarted agent (`-dev`, or one that lost its state) first knows nobody: its instances
   * re-register within their registrar heartbeat (1 s). Taking that first empty answer at face
   * value would turn a Consul blip into NoHealthyInstance for everyone.
   */
  recoveryGraceMs?: number;
}

/**
 * Keeps the list of **passing** instances of one service fresh through Consul blocking queries
 * on `/v1/health/service/<name>?passing`. While Consul is unreachable it keeps the last list it
 * had (callers keep working) and retries with backoff; it never empties the list on an error.
 */
export class Watcher implements Instancer {
  readonly service: string;
  private current: readonly Instance[] = [];
  private index = 0;
  private stopped = true;
  private loop: Promise<void> | undefined;
  private readonly abort = new EventEmitter();
  private readonly stopController = new AbortController();
  private firstAnswer: Promise<void>;
  /** Until this time an empty answer does not replace a non-empty list (see recoveryGraceMs). */
  private distrustEmptyUntil = 0;
  private markAnswered!: () => void;
  /** Time of the last successful answer from Consul, 0 before the first. */
  lastSyncAt = 0;
  consecutiveFailures = 0;

  /** A Set, not EventEmitter listeners: any number of clients may share one watcher. */
  private readonly listeners = new Set<InstancesListener>();

  constructor(private readonly options: WatcherOptions) {
    this.service = options.service;
    this.firstAnswer = new Promise((resolve) => (this.markAnswered = resolve));
  }

  subscribe(listener: InstancesListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The last known passing instances (possibly stale while Consul is down). */
  instances(): readonly Instance[] {
    return this.current;
  }

  start(): this {
    if (!this.stopped) return this;
    this.stopped = false;
    this.loop = this.run();
    return this;
  }

  /**
   * Resolves once Consul has answered at least once, or after `timeoutMs` (whatever is known by
   * then is returned). Callers use it so a fresh process does not start with an empty list.
   */
  async ready(timeoutMs = 5_000): Promise<readonly Instance[]> {
    // The timer is cancelled once answered, so it does not hold the event loop open for seconds.
    const answered = new AbortController();
    await Promise.race([this.firstAnswer, sleep(timeoutMs, AbortSignal.any([this.stopController.signal, answered.signal]))]);
    answered.abort();
    return this.current;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopController.abort();
    this.abort.emit('cancel');
    await this.loop;
  }

  private async run(): Promise<void> {
    const wait = this.options.waitSeconds ?? 30;
    const backoff = this.options.backoff ?? { baseMs: 100, maxMs: 5_000 };
    while (!this.stopped) {
      try {
        // While an empty answer is being distrusted, wake up when the grace ends to re-decide.
        const graceLeftMs = this.distrustEmptyUntil - Date.now();
        const { index, entries } = await this.query(graceLeftMs > 0 ? `${Math.ceil(graceLeftMs)}ms` : `${wait}s`);
        const fresh = isNewIndex(this.index, index);
        this.index = index;
        this.lastSyncAt = Date.now();
        if (this.consecutiveFailures > 0) {
          this.options.logger?.info({ upstream: this.service }, 'consul reachable again; watching resumed');
          this.distrustEmptyUntil = Date.now() + (this.options.recoveryGraceMs ?? 5_000);
        }
        this.consecutiveFailures = 0;
        const next = entries.map(toInstance);
        if (next.length === 0 && this.current.length > 0 && Date.now() < this.distrustEmptyUntil) {
          this.options.logger?.info(
            { upstream: this.service, keeping: this.current.length },
            'consul just came back and knows no instance yet; keeping the last list while they re-register',
          );
        } else if (fresh || this.distrustEmptyUntil !== 0) {
          this.distrustEmptyUntil = 0;
          this.apply(next);
        }
        this.markAnswered();
      } catch (error) {
        if (this.stopped) break;
        this.consecutiveFailures += 1;
        const delay = backoffDelay(this.consecutiveFailures - 1, backoff);
        // Index 0 on the next try: after an outage the agent may have restarted with a lower index.
        this.index = 0;
        const err = error instanceof Error ? error : new Error(String(error));
        this.options.logger?.warn(
          { upstream: this.service, err: err.message, retryInMs: delay, keeping: this.current.length },
          'consul query failed; keeping the last known instances',
        );
        await sleep(delay, this.stopController.signal);
      }
    }
  }

  private async query(wait: string): Promise<{ index: number; entries: HealthEntry[] }> {
    const ctx = Object.assign(new EventEmitter(), { includeResponse: true });
    const cancel = () => ctx.emit('cancel');
    this.abort.once('cancel', cancel);
    try {
      const [response, body] = (await this.options.consul.health.service({
        service: this.service,
        passing: true,
        index: String(this.index),
        wait,
        // Consul may hold the query up to wait + wait/16; anything far beyond that is a dead link.
        timeout: Math.ceil(waitMs(wait) * 1.1) + 5_000,
        ctx,
      } as never)) as unknown as [{ headers: Record<string, string | undefined> }, HealthEntry[]];
      return { index: nextIndex(this.index, response.headers['x-consul-index']), entries: body ?? [] };
    } finally {
      this.abort.off('cancel', cancel);
    }
  }

  private apply(next: Instance[]): void {
    next.sort((a, b) => a.id.localeCompare(b.id));
    // Set on every answer, so a service with no instance at all still exports 0 (alertable).
    healthyInstancesGauge.set({ service: this.service }, next.length);
    if (sameInstances(this.current, next)) return;
    this.current = Object.freeze(next);
    this.options.logger?.info(
      { upstream: this.service, instances: next.map((i) => i.id) },
      `passing instances of ${this.service}: ${next.length}`,
    );
    // A throwing listener is its owner's bug, not a Consul failure: it must not reset our index,
    // back off, or keep the other listeners (e.g. breaker cleanup) from hearing the change.
    for (const listener of [...this.listeners]) {
      try {
        listener(this.current);
      } catch (error) {
        this.options.logger?.error({ upstream: this.service, err: error }, 'a watcher change listener threw');
      }
    }
  }
}

function waitMs(wait: string): number {
  return wait.endsWith('ms') ? Number(wait.slice(0, -2)) : Number(wait.slice(0, -1)) * 1000;
}

function sameInstances(a: readonly Instance[], b: readonly Instance[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((x, i) => {
    const y = b[i]!;
    return x.id === y.id && x.address === y.address && x.port === y.port;
  });
}
