import { UndiciAgent, undiciRequest, type Instance, type Logger } from '@switchyard/infra';
import { Watcher, instanceOrigin, type ConsulClient } from '@switchyard/infra/discovery';
import { callerViewSchema, type CallerView } from './caller-view.js';
import { EventLog, type BalancingEvent } from './event-log.js';
import { RateHistory } from './history.js';
import { TrafficWindow, buildPanels, type ServicePanel } from './panels.js';
import { inOurStack } from './stack-names.js';

export interface MonitorOptions {
  consul: ConsulClient;
  /** SERVICE_NAME_SUFFIX: the services of our stack end with it. */
  suffix: string;
  logger: Logger;
  intervalMs: number;
  /** Rates are measured over this window (see TrafficWindow). */
  windowMs: number;
  /** Safety refresh of the watchers' blocking queries. */
  waitSeconds: number;
}

/** One polled instance's status, for the page's footer ("7 of 8 callers answered"). */
export interface CallerStatus {
  id: string;
  service: string;
  ok: boolean;
  error?: string;
}

/** What `/api/balancing` answers. */
export interface BalancingSnapshot {
  now: number;
  windowSeconds: number;
  services: ServicePanel[];
  callers: CallerStatus[];
  /** Newest first. */
  events: BalancingEvent[];
}

interface Watched {
  watcher: Watcher;
  /** The ids last seen; undefined until the starting point is known (no joins for it). */
  known: Set<string> | undefined;
  unsubscribe: () => void;
}

const VIEW_PATH = '/metrics/upstreams';

/**
 * The balancing page's backend: every second, every passing instance of every service of our
 * stack in Consul is asked for its view of its upstreams (`GET /metrics/upstreams`, on the admin
 * port when the instance has one); rates come from consecutive views (TrafficWindow), events
 * from the instances' breakers and from our own watchers of each service. Nothing is stored
 * beyond memory: a restarted webui (or caller) starts its rates over.
 */
export class BalancingMonitor {
  private readonly watched = new Map<string, Watched>();
  private readonly window: TrafficWindow;
  readonly events = new EventLog();
  readonly history = new RateHistory();
  /** Services seen serving live sockets: their panels keep the column (sticky: 0 is a number too). */
  private readonly socketServices = new Set<string>();
  private latest: BalancingSnapshot;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private catalogRead = false;
  private failing = false;
  /** Keeps a connection to each caller's admin port between rounds. */
  private readonly agent = new UndiciAgent({ keepAliveTimeout: 4_000 });

  constructor(private readonly options: MonitorOptions) {
    this.window = new TrafficWindow(options.windowMs);
    this.latest = { now: Date.now(), windowSeconds: options.windowMs / 1000, services: [], callers: [], events: [] };
  }

  snapshot(): BalancingSnapshot {
    return this.latest;
  }

  start(): void {
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    const all = [...this.watched.values()];
    this.watched.clear();
    for (const w of all) w.unsubscribe();
    await Promise.allSettled(all.map((w) => w.watcher.stop()));
    await this.agent.close();
  }

  /** One round: catalog → watchers → every instance's view → panels. Skipped while the previous one runs. */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      await this.syncServices();
      const targets = [...this.watched].flatMap(([service, w]) => w.watcher.instances().map((instance) => ({ service, instance })));
      const polled = await Promise.all(targets.map((t) => this.poll(t.instance).then((result) => ({ ...t, ...result }))));
      const views = polled.flatMap((p) => (p.view ? [p.view] : []));
      for (const view of views) {
        this.window.add(view);
        this.events.takeFrom(view);
      }
      const polledIds = polled.map((p) => p.instance.id);
      this.window.retain(polledIds);
      this.events.retain(polledIds);

      const liveSockets = new Map<string, number>();
      for (const p of polled) {
        if (!p.view) continue;
        if (p.view.liveSockets === null) continue;
        liveSockets.set(p.instance.id, p.view.liveSockets);
        this.socketServices.add(p.service);
      }
      const consul = new Map([...this.watched].map(([service, w]) => [service, w.watcher.instances().map((i) => i.id)]));
      const services = buildPanels({ consul, views, rates: this.window.rates(), liveSockets, socketServices: this.socketServices });
      const now = Date.now();
      this.history.add(now, services);
      this.latest = {
        now,
        windowSeconds: this.options.windowMs / 1000,
        services,
        callers: polled.map((p) => ({ id: p.instance.id, service: p.service, ok: p.view !== undefined, ...(p.error && { error: p.error }) })),
        events: this.events.list(),
      };
      if (this.failing) this.options.logger.info('balancing: reading consul again');
      this.failing = false;
    } catch (error) {
      // The page keeps the last snapshot; one line per outage, not one a second.
      if (!this.failing) this.options.logger.warn({ err: (error as Error).message }, 'balancing: cannot read the services from consul');
      this.failing = true;
    } finally {
      this.ticking = false;
    }
  }

  /** Watches every service of our stack in Consul's catalog; stops watching those that left it. */
  private async syncServices(): Promise<void> {
    const catalog = (await this.options.consul.catalog.service.list({ timeout: 2_000 } as never)) as Record<string, string[]>;
    const names = Object.keys(catalog).filter((name) => inOurStack(name, this.options.suffix));
    // Services present at our start are the starting point; a service that appears later joins.
    const quietStart = !this.catalogRead;
    this.catalogRead = true;
    for (const name of names) if (!this.watched.has(name)) this.watch(name, quietStart);
    for (const [name, w] of this.watched) {
      if (names.includes(name)) continue;
      this.watched.delete(name);
      w.unsubscribe();
      void w.watcher.stop();
      for (const id of w.known ?? []) this.events.record({ at: Date.now(), kind: 'left', service: name, instance: id, detail: 'deregistered' });
    }
  }

  private watch(service: string, quietStart: boolean): void {
    const { consul, logger, waitSeconds } = this.options;
    const watcher = new Watcher({ consul, service, logger, waitSeconds }).start();
    const watched: Watched = { watcher, known: quietStart ? undefined : new Set(), unsubscribe: () => {} };
    // A first answer with no instance notifies nobody: ready() sets the starting point then.
    if (quietStart) void watcher.ready().then((list) => (watched.known ??= new Set(list.map((i) => i.id))), () => {});
    watched.unsubscribe = watcher.subscribe((instances) => this.changed(service, watched, instances));
    this.watched.set(service, watched);
  }

  private changed(service: string, watched: Watched, instances: readonly Instance[]): void {
    const now = new Set(instances.map((i) => i.id));
    const before = watched.known;
    watched.known = now;
    if (!before) return;
    const at = Date.now();
    for (const id of now) if (!before.has(id)) this.events.record({ at, kind: 'joined', service, instance: id, detail: 'passing' });
    for (const id of before) if (!now.has(id)) void this.recordLeft(service, id, at);
  }

  /** Says why an instance left: still in Consul (its check fails) or deregistered. */
  private async recordLeft(service: string, instance: string, at: number): Promise<void> {
    let detail = 'no longer passing';
    try {
      const entries = (await this.options.consul.health.service({ service, timeout: 1_000 } as never)) as Array<{ Service: { ID: string } }>;
      detail = entries.some((e) => e.Service.ID === instance) ? 'failing its check' : 'deregistered';
    } catch {
      // Consul did not answer: the plain fact will do.
    }
    this.events.record({ at, kind: 'left', service, instance, detail });
  }

  private async poll(instance: Instance): Promise<{ view?: CallerView; error?: string }> {
    // The gateway serves /metrics (and this view) on its loopback admin port, named in its meta.
    const adminPort = Number(instance.meta.admin_port);
    const origin = instanceOrigin({ address: instance.address, port: adminPort > 0 ? adminPort : instance.port });
    try {
      // undici's request, not the global fetch: fetch loads Node's own bundled copy of undici
      // beside the one the platform already runs on (~10 MiB of RSS, BENCHMARKS.md "Footprint").
      const response = await undiciRequest(this.agent, {
        origin,
        path: VIEW_PATH,
        method: 'GET',
        signal: AbortSignal.timeout(Math.max(200, this.options.intervalMs - 100)),
      });
      if (response.statusCode < 200 || response.statusCode >= 300) {
        await response.body.dump();
        return { error: `answered ${response.statusCode}` };
      }
      const parsed = callerViewSchema.safeParse(await response.body.json());
      if (!parsed.success) return { error: 'answered a view this webui cannot read' };
      return { view: parsed.data };
    } catch (error) {
      return { error: (error as Error).name === 'TimeoutError' ? 'no answer in time' : (error as Error).message };
    }
  }
}
