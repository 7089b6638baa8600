/**
 * The application every chaos scenario runs: gateway(s), auth, social, messenger and rng as real
 * processes on a private database (AppStack), two users who are friends (one posts, so the
 * other's feed has something to read), a chat between them, and live sockets of the recipient
 * through the gateway (the messenger client library: reconnect, resume with `since`, dedupe).
 *
 * After a scenario, `messageLedger` checks every acknowledged message against the stored history
 * and against what every live socket delivered: lost and duplicated, counted.
 */
import { AppStack, type AppUser } from '../../support/app-stack.js';
import type { Running } from '../../support/isolated-stack.js';
import { waitFor } from '../../support/wait.js';
import { LiveRecorder } from '../../../messenger/test/support/live-recorder.js';
import { MixedLoad, type LoadKind } from './mixed-load.js';

export type Counts = Partial<Record<'auth' | 'social' | 'messenger' | 'rng', number>>;

export interface ChaosStackOptions {
  counts: Counts;
  /** Gateways behind the load's "load balancer" (default 1). */
  gateways?: number;
  /** Live sockets of the recipient (default 2). */
  liveSockets?: number;
  /** Variables for every process. */
  env?: Record<string, string>;
  /** Variables per service. */
  envOf?: Partial<Record<'gateway' | 'auth' | 'social' | 'messenger' | 'rng', Record<string, string>>>;
  /**
   * Consul agents (HTTP addresses) the processes register and discover through, as in
   * production where each host runs its own client agent: instance i of each service uses
   * agents[i % n], gateways agents[0]. Default: the local dev agent.
   */
  agents?: string[];
}

export interface Ledger {
  acknowledged: number;
  /** Acknowledged (201/200) but absent from the stored history. */
  lost: number;
  /** Stored more than once for one send, or delivered twice to one socket. */
  duplicated: number;
  /** Acknowledged messages some live socket never delivered. */
  undelivered: number;
}

/** Short heartbeats and idle cuts: a dead peer is noticed in seconds, not minutes. */
const FAST_FAILURE_DETECTION = { WS_HEARTBEAT_MS: '1000', RNG_DELAY_MS: '1' };

export class ChaosStack {
  readonly app: AppStack;
  instances!: Record<'auth' | 'social' | 'messenger' | 'rng', Running[]>;
  gateways: Running[] = [];
  sender!: AppUser;
  reader!: AppUser;
  chatId!: string;
  readonly live: LiveRecorder[] = [];

  constructor(private readonly options: ChaosStackOptions) {
    const agent = options.agents?.[0];
    this.app = new AppStack({ ...FAST_FAILURE_DETECTION, ...(agent && { CONSUL_HTTP_ADDR: agent }), ...options.env });
  }

  async start(): Promise<this> {
    const { counts, envOf = {} } = this.options;
    await this.app.prepare();
    const stack = this.app.stack;
    const services = (['auth', 'social', 'messenger', 'rng'] as const).filter((s) => (counts[s] ?? 0) > 0);
    const gatewayEnv = { GATEWAY_TUNNEL_IDLE_MS: '3000', ...envOf.gateway };
    const agents = this.options.agents ?? [];
    const placed = (i: number): Record<string, string> => (agents.length > 0 ? { CONSUL_HTTP_ADDR: agents[i % agents.length]! } : {});
    const startService = async (service: (typeof services)[number]) => {
      const running = await Promise.all(Array.from({ length: counts[service]! }, (_, i) => stack.start(service, { ...envOf[service], ...placed(i) })));
      await stack.waitPassing(service, (ids) => running.every((r) => ids.includes(r.serviceId)));
      return running;
    };
    const [gateways, ...started] = await Promise.all([
      Promise.all(Array.from({ length: this.options.gateways ?? 1 }, () => stack.start('gateway', gatewayEnv))),
      ...services.map(startService),
    ]);
    this.gateways = gateways;
    this.app.gateway = gateways[0]!;
    this.instances = { auth: [], social: [], messenger: [], rng: [] };
    services.forEach((service, i) => (this.instances[service] = started[i]!));
    await stack.waitPassing('gateway', (ids) => gateways.every((g) => ids.includes(g.serviceId)));
    const instanceIds = Object.values(this.instances).flat().map((instance) => instance.serviceId);
    await Promise.all(gateways.map((gateway) => this.app.waitGatewaySees(gateway, instanceIds)));

    if (counts.auth) {
      [this.sender, this.reader] = [await this.app.user('Sam'), await this.app.user('Rae')];
      if (counts.social) {
        await this.app.befriend(this.sender, this.reader);
        for (const text of ['first', 'second', 'third']) {
          const posted = await this.app.call('POST', '/api/v1/social/posts', { token: this.sender.accessToken, body: { text } });
          if (posted.status !== 201) throw new Error(`post answered ${posted.status}: ${JSON.stringify(posted.body)}`);
        }
      }
      if (counts.messenger) {
        const opened = await this.app.call('POST', '/api/v1/messenger/chats', { token: this.sender.accessToken, body: { peerId: this.reader.id } });
        if (opened.status !== 201) throw new Error(`open chat answered ${opened.status}: ${JSON.stringify(opened.body)}`);
        this.chatId = opened.body.id;
        for (let i = 0; i < (this.options.liveSockets ?? 2); i++) {
          // Through the last gateway: scenarios stop the first one, and a socket's client knows one
          // URL (in production, the load balancer's).
          const recorder = new LiveRecorder(this.gateways.at(-1)!.url, this.reader.accessToken, { heartbeatMs: 1_000 });
          this.live.push(recorder);
          await recorder.ready();
        }
      }
    }
    return this;
  }

  /** A steady open-loop load over every gateway (not started). */
  load(rps: number, mix: LoadKind[]): MixedLoad {
    return new MixedLoad({
      gateways: this.gateways.map((g) => g.url),
      rps,
      mix,
      reader: this.reader,
      sender: this.sender,
      chatId: this.chatId,
    });
  }

  /** Stops gateway `index` with `signal`; later calls of this stack go through another one. */
  async stopGateway(index: number, signal: NodeJS.Signals = 'SIGTERM') {
    const victim = this.gateways[index]!;
    const others = this.gateways.filter((g) => g !== victim);
    if (others.length === 0) throw new Error('stopGateway: the stack has no other gateway');
    this.app.gateway = others.at(-1)!;
    return victim.process.stop(signal);
  }

  /** Every stored message of the chat, oldest first (all pages). */
  async history(): Promise<Array<{ id: string; clientMessageId?: string }>> {
    const all: Array<{ id: string; clientMessageId?: string }> = [];
    let cursor: string | undefined;
    do {
      const page = await this.app.call(
        'GET',
        `/api/v1/messenger/chats/${this.chatId}/messages?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { token: this.sender.accessToken },
      );
      if (page.status !== 200) throw new Error(`history answered ${page.status}: ${JSON.stringify(page.body)}`);
      all.push(...page.body.items);
      cursor = page.body.nextCursor ?? undefined;
    } while (cursor);
    return all.reverse();
  }

  /**
   * Lost and duplicated messages: each acknowledged id must be stored once and delivered once to
   * every live socket (waiting up to `deliveryTimeoutMs` for sockets still resuming).
   */
  async messageLedger(acknowledged: readonly string[], deliveryTimeoutMs = 20_000): Promise<Ledger> {
    const stored = await this.history();
    const storedIds = stored.map((m) => m.id);
    const storedSet = new Set(storedIds);
    const keys = stored.map((m) => m.clientMessageId).filter((k): k is string => k !== undefined);
    let duplicated = storedIds.length - storedSet.size + (keys.length - new Set(keys).size);
    const wanted = [...new Set(acknowledged)];
    const lost = wanted.filter((id) => !storedSet.has(id)).length;
    const deliverable = wanted.filter((id) => storedSet.has(id));
    await waitFor(
      'every live socket to deliver every acknowledged message',
      () => this.live.every((socket) => {
        const got = new Set(socket.messageIds());
        return deliverable.every((id) => got.has(id));
      }),
      { timeoutMs: deliveryTimeoutMs },
    ).catch(() => undefined);
    let undelivered = 0;
    for (const socket of this.live) {
      const ids = socket.messageIds();
      duplicated += ids.length - new Set(ids).size;
      const got = new Set(ids);
      undelivered = Math.max(undelivered, deliverable.filter((id) => !got.has(id)).length);
    }
    return { acknowledged: wanted.length, lost, duplicated, undelivered };
  }

  async teardown(): Promise<void> {
    for (const socket of this.live) socket.close();
    await this.app.teardown();
  }
}
