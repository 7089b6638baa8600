import type { Logger } from 'pino';
import { backoffDelay, sleep, type BackoffOptions } from '../backoff.js';
import { healthyInstancesGauge } from '../metrics.js';
import type { Instance } from '../sd/instance.js';
import type { Instancer, InstancesListener } from '../sd/instancer.js';
import { refusalReason } from './agent-errors.js';
import { isNewIndex, nextIndex } from './blocking-index.js';
import type { ConsulClient } from './client.js';
import { toInstance } from './health-entry.js';
import { consulHealthQuery, type HealthAnswer, type HealthQuery } from './health-query.js';

export interface WatcherOptions {
  /** The agent to watch through. */
  consul?: ConsulClient;
  /** Instead of `consul`: the query step itself (tests drive the loop with a scripted one). */
  query?: HealthQuery;
  service: string;
  logger?: Logger;
  /**
   * Longest a blocking query waits for a change before Consul answers anyway (the "safety
   * refresh"). Changes arrive as soon as they happen; this only bounds how stale a silently
   * lost update could be.
   */
  waitSeconds?: number;
  /** Backoff between failed queries (agent unreachable, or an answer without a sane index). */
  backoff?: BackoffOptions;
  /**
   * Backoff while the agent refuses our ACL token (401/403). Slow: only an operator fixes that
   * (a policy change applies live, so we keep asking, rarely).
   */
  refusedBackoff?: BackoffOptions;
  /**
   * Least time between the starts of two queries. A blocking query normally waits; when the
   * agent answers at once again and again (a flapping index, a misbehaving proxy) this keeps one
   * watcher from flooding it. A change is delayed by at most this, and only in such a burst.
   */
  minIntervalMs?: number;
  /**
   * After an outage, how long an empty answer is not trusted while we still hold instances. A
   * restarted agent (`-dev`, or one that lost its state) first knows nobody: its instances
   * re-register within their registrar heartbeat (1 s). Taking that first empty answer at face
   * value would turn a Consul blip into NoHealthyInstance for everyone.
   */
  recoveryGraceMs?: number;
  /**
   * Read from any Consul server (`?stale`, the default) rather than only the leader, so discovery
   * keeps answering through a leader election (see consulHealthQuery). False: default
   * consistency, where every read fails while the cluster has no leader (the watcher then keeps
   * its last list, as in any outage).
   */
  staleReads?: boolean;
  /**
   * A stale answer whose server has not heard from a leader for longer than this is still used
   * (nothing fresher exists), but logged once per such streak: the operator should know that
   * discovery runs on a copy that no longer follows the cluster.
   */
  staleWarnMs?: number;
}

const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 100, maxMs: 5_000 };
const DEFAULT_REFUSED_BACKOFF: BackoffOptions = { baseMs: 5_000, maxMs: 60_000 };

/**
 * Keeps the list of **passing** instances of one service fresh through Consul blocking queries
 * on `/v1/health/service/<name>?passing`. While Consul is unreachable it keeps the last list it
 * had (callers keep working) and retries with backoff; it never empties the list on an error.
 */
export class Watcher implements Instancer {
  readonly service: string;
  private readonly query: HealthQuery;
  private current: readonly Instance[] = [];
  private index = 0;
  /** The running loop's controller; undefined while stopped. Each start() gets a fresh one. */
  private running: AbortController | undefined;
  private loop: Promise<void> = Promise.resolve();
  private readonly firstAnswer: Promise<void>;
  private markAnswered!: () => void;
  /** Until this time an empty answer does not replace a non-empty list (see recoveryGraceMs). */
  private distrustEmptyUntil = 0;
  /** The current failure streak includes the agent being unreachable (not merely refusing us). */
  private unreachable = false;
  /** Length of the current streak of refusals (401/403). */
  private refusals = 0;
  private aclNoted = false;
  /** The current answers come from a server without a leader (or out of touch with it). */
  private leaderless = false;
  /** Time of the last successful answer from Consul, 0 before the first. */
  lastSyncAt = 0;
  consecutiveFailures = 0;

  /** A Set, not EventEmitter listeners: any number of clients may share one watcher. */
  private readonly listeners = new Set<InstancesListener>();

  constructor(private readonly options: WatcherOptions) {
    this.service = options.service;
    if (options.query) this.query = options.query;
    else if (options.consul) this.query = consulHealthQuery(options.consul, { stale: options.staleReads ?? true });
    else throw new TypeError(`Watcher(${options.service}) needs a consul client or a query`);
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

  /** Starts watching; after stop(), starts again (a fresh loop, once the old one has ended). */
  start(): this {
    if (this.running) return this;
    const controller = new AbortController();
    this.running = controller;
    // After a stop the index may belong to an agent that restarted since: ask plainly first.
    this.index = 0;
    this.loop = this.loop.then(() => this.run(controller.signal));
    return this;
  }

  /**
   * Resolves once Consul has answered at least once, or after `timeoutMs` (whatever is known by
   * then is returned). Callers use it so a fresh process does not start with an empty list.
   */
  async ready(timeoutMs = 5_000): Promise<readonly Instance[]> {
    // The timer is cancelled once answered, so it does not hold the event loop open for seconds.
    const answered = new AbortController();
    const signals = this.running ? [this.running.signal, answered.signal] : [answered.signal];
    await Promise.race([this.firstAnswer, sleep(timeoutMs, AbortSignal.any(signals))]);
    answered.abort();
    return this.current;
  }

  async stop(): Promise<void> {
    const controller = this.running;
    if (!controller) return this.loop;
    this.running = undefined;
    controller.abort();
    await this.loop;
  }

  private async run(signal: AbortSignal): Promise<void> {
    const waitMs = (this.options.waitSeconds ?? 30) * 1_000;
    const minIntervalMs = this.options.minIntervalMs ?? 100;
    let lastQueryAt = Number.NEGATIVE_INFINITY;
    while (!signal.aborted) {
      const sinceLast = Date.now() - lastQueryAt;
      if (sinceLast < minIntervalMs) {
        await sleep(minIntervalMs - sinceLast, signal);
        if (signal.aborted) break;
      }
      lastQueryAt = Date.now();
      // While an empty answer is being distrusted, wake up when the grace ends to re-decide.
      const graceLeftMs = this.distrustEmptyUntil - Date.now();
      let answer: HealthAnswer;
      try {
        answer = await this.query({
          service: this.service,
          index: this.index,
          waitMs: graceLeftMs > 0 ? Math.ceil(graceLeftMs) : waitMs,
          signal,
        });
      } catch (error) {
        if (signal.aborted) break;
        await sleep(this.failed(error), signal);
        continue;
      }
      if (signal.aborted) break;
      const step = nextIndex(this.index, answer.index);
      if (step.kind === 'insane') {
        await sleep(this.insane(answer.index), signal);
        continue;
      }
      try {
        this.accept(answer, step.kind === 'reset' ? 0 : step.index);
      } catch (error) {
        // A body we cannot read is a failed query: keep the list, back off.
        await sleep(this.failed(error), signal);
      }
    }
  }

  /** Bookkeeping of a failed query; returns how long to wait before the next one. */
  private failed(error: unknown): number {
    this.consecutiveFailures += 1;
    // Index 0 on the next try: after an outage the agent may have restarted with a lower index.
    this.index = 0;
    const refused = refusalReason(error, this.options.consul?.hasToken ?? false);
    if (refused !== undefined) {
      const delay = backoffDelay(this.refusals, this.options.refusedBackoff ?? DEFAULT_REFUSED_BACKOFF);
      this.refusals += 1;
      // One clear line per streak: the reason does not change until an operator acts.
      const level = this.refusals === 1 ? 'error' : 'debug';
      this.options.logger?.[level](
        { upstream: this.service, retryInMs: delay, keeping: this.current.length },
        `consul refused to list instances of ${this.service}: ${refused}; keeping the last known instances`,
      );
      return delay;
    }
    this.unreachable = true;
    const delay = backoffDelay(this.consecutiveFailures - 1, this.options.backoff ?? DEFAULT_BACKOFF);
    const err = error instanceof Error ? error : new Error(String(error));
    this.options.logger?.warn(
      { upstream: this.service, err: err.message, retryInMs: delay, keeping: this.current.length },
      'consul query failed; keeping the last known instances',
    );
    return delay;
  }

  /** An answer whose X-Consul-Index is unusable counts as a failure (go-kit); returns the wait. */
  private insane(received: string | undefined): number {
    this.consecutiveFailures += 1;
    this.index = 0;
    const delay = backoffDelay(this.consecutiveFailures - 1, this.options.backoff ?? DEFAULT_BACKOFF);
    this.options.logger?.warn(
      { upstream: this.service, index: received ?? null, retryInMs: delay, keeping: this.current.length },
      'consul answered without a sane X-Consul-Index; keeping the last known instances',
    );
    return delay;
  }

  private accept(answer: HealthAnswer, index: number): void {
    const next = answer.entries.map(toInstance);
    const fresh = isNewIndex(this.index, index);
    this.index = index;
    this.lastSyncAt = Date.now();
    if (this.unreachable) {
      this.options.logger?.info({ upstream: this.service }, 'consul reachable again; watching resumed');
      this.distrustEmptyUntil = Date.now() + (this.options.recoveryGraceMs ?? 5_000);
    } else if (this.refusals > 0) {
      this.options.logger?.info({ upstream: this.service }, `consul accepts our ACL token for ${this.service} again`);
    }
    this.consecutiveFailures = 0;
    this.unreachable = false;
    this.refusals = 0;
    this.noteStaleness(answer);
    if (answer.aclNote && !this.aclNoted) {
      this.aclNoted = true;
      this.options.logger?.warn({ upstream: this.service }, `watching ${this.service}: ${answer.aclNote}`);
    }
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
  }

  /** One line when answers start coming from a cluster without a leader, one when it has one again. */
  private noteStaleness(answer: HealthAnswer): void {
    const outOfTouch = answer.knownLeader === false || (answer.lastContactMs ?? 0) > (this.options.staleWarnMs ?? 10_000);
    if (outOfTouch === this.leaderless) return;
    this.leaderless = outOfTouch;
    if (outOfTouch) {
      this.options.logger?.warn(
        { upstream: this.service, knownLeader: answer.knownLeader ?? null, lastContactMs: answer.lastContactMs ?? null },
        `consul has no leader right now; discovery of ${this.service} goes on from a server's own copy of the catalog`,
      );
    } else {
      this.options.logger?.info({ upstream: this.service }, `consul has a leader again; discovery of ${this.service} follows it`);
    }
  }

  private apply(next: Instance[]): void {
    // By code unit, not localeCompare: the ids are ASCII, and a collator would map ICU's
    // collation data into every watching process (~3 MiB of RSS, BENCHMARKS.md "Footprint").
    next.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
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

function sameInstances(a: readonly Instance[], b: readonly Instance[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((x, i) => {
    const y = b[i]!;
    return x.id === y.id && x.address === y.address && x.port === y.port;
  });
}
