/**
 * The chaos suite's steady load: an open loop (requests leave at a fixed rate whatever the
 * answers do, so a stall shows as latency and failures instead of hiding as fewer requests, the
 * coordinated-omission trap) through the gateway, mixing the public API's kinds of work:
 * random bytes (rng: no database), feed reads (social: Redis, MySQL), message sends with an
 * idempotency key (messenger: MySQL, live delivery) and the signed-in user's profile (auth). Every answer is kept with its time, so a
 * scenario reads what failed, when, and why, and how long recovery took after its fault.
 *
 * The load reaches "the gateway" as a client reaches a pool of gateways behind a health-checked
 * load balancer: round robin over the gateway URLs it is given, and a connection *refused* (no
 * byte of the request sent) goes to the next one. Nothing else is retried here: a retry that
 * hides a failure is the platform's job, and the scenario's measure.
 */
import { randomUUID } from 'node:crypto';
import { Agent, fetch } from 'undici';

export type LoadKind = 'rng' | 'feed' | 'send' | 'me';

export interface LoadUser {
  accessToken: string;
}

export interface MixedLoadOptions {
  /** Gateway base URLs (`http://127.0.0.1:port`); more than one for scenarios that stop a gateway. */
  gateways: string[];
  /** Requests per second, all kinds together. */
  rps: number;
  /** The kinds, taken in turn (repeat one to weigh it). */
  mix: LoadKind[];
  /** Reads the feed and its own profile. */
  reader?: LoadUser;
  /** Sends into `chatId`. */
  sender?: LoadUser;
  chatId?: string;
  /** One request's limit; past it the request counts as failed with reason `timeout`. */
  timeoutMs?: number;
}

export interface Outcome {
  kind: LoadKind;
  /** When it was scheduled to leave (ms since the epoch). */
  at: number;
  latencyMs: number;
  /** HTTP status, or 0 when no answer came. */
  status: number;
  /** For failures: the error code of the JSON body, or the network error. */
  reason?: string;
  ok: boolean;
}

export interface LoadSummary {
  requests: number;
  failed: number;
  /** Failures by `kind status reason`. */
  failuresByReason: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Time from `since` to the last failure (0 when nothing failed after it). */
  recoveryMs: number;
}

const OK: Record<LoadKind, (status: number) => boolean> = {
  rng: (status) => status === 200,
  feed: (status) => status === 200,
  me: (status) => status === 200,
  // 201 stored, 200 the same key again (a retry that reached another instance).
  send: (status) => status === 201 || status === 200,
};

export class MixedLoad {
  readonly outcomes: Outcome[] = [];
  /** Ids of the messages the API acknowledged (201/200), in the order of the answers. */
  readonly acknowledged: string[] = [];
  /** Connections refused by one gateway and sent to the next (the load balancer's own retry). */
  edgeRetries = 0;
  private readonly agent = new Agent({ connections: 64, keepAliveTimeout: 4_000 });
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private sequence = 0;
  private next = 0;
  private startedAt = 0;

  constructor(private readonly options: MixedLoadOptions) {
    if ((options.mix.includes('feed') || options.mix.includes('me')) && !options.reader) throw new Error('MixedLoad: feed and profile reads need a reader');
    if (options.mix.includes('send') && !(options.sender && options.chatId)) throw new Error('MixedLoad: sends need a sender and a chatId');
  }

  start(): this {
    this.startedAt = Date.now();
    this.tick();
    return this;
  }

  /** Stops sending and waits for every request still out. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.inFlight]);
    await this.agent.close();
  }

  /** Resolves once `count` more requests have been answered (or failed) from now on. */
  async answered(count: number, timeoutMs = 30_000): Promise<void> {
    const target = this.outcomes.length + count;
    const deadline = Date.now() + timeoutMs;
    while (this.outcomes.length < target) {
      if (Date.now() > deadline) throw new Error(`load: ${count} more answers did not come within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** The outcomes scheduled at or after `since` (all by default). */
  summary(since = 0): LoadSummary {
    const window = this.outcomes.filter((o) => o.at >= since);
    const failures = window.filter((o) => !o.ok);
    const latencies = window.map((o) => o.latencyMs).sort((a, b) => a - b);
    const at = (q: number) => (latencies.length === 0 ? 0 : latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!);
    const failuresByReason: Record<string, number> = {};
    for (const f of failures) {
      const key = `${f.kind} ${f.status} ${f.reason ?? ''}`.trim();
      failuresByReason[key] = (failuresByReason[key] ?? 0) + 1;
    }
    const lastFailure = failures.reduce((last, f) => Math.max(last, f.at + f.latencyMs), 0);
    return {
      requests: window.length,
      failed: failures.length,
      failuresByReason,
      p50Ms: Math.round(at(0.5)),
      p99Ms: Math.round(at(0.99)),
      maxMs: Math.round(latencies.at(-1) ?? 0),
      recoveryMs: failures.length === 0 ? 0 : Math.max(0, Math.round(lastFailure - since)),
    };
  }

  /** Schedules the next request at its own time: the rate holds however slow the answers are. */
  private tick(): void {
    const interval = 1_000 / this.options.rps;
    const dueAt = this.startedAt + this.sequence * interval;
    this.timer = setTimeout(() => {
      const kind = this.options.mix[this.sequence % this.options.mix.length]!;
      this.sequence += 1;
      const request = this.send(kind, dueAt).finally(() => this.inFlight.delete(request));
      this.inFlight.add(request);
      this.tick();
    }, Math.max(0, dueAt - Date.now()));
  }

  private async send(kind: LoadKind, at: number): Promise<void> {
    const { method, path, token, body } = this.request(kind);
    const started = performance.now();
    let outcome: Outcome;
    try {
      const { status, json } = await this.call(method, path, token, body);
      const ok = OK[kind](status);
      if (ok && kind === 'send') this.acknowledged.push(String(json?.id));
      outcome = { kind, at, latencyMs: performance.now() - started, status, ok, ...(!ok && { reason: json?.error?.code ?? 'no_json' }) };
    } catch (error) {
      outcome = { kind, at, latencyMs: performance.now() - started, status: 0, ok: false, reason: networkReason(error) };
    }
    this.outcomes.push(outcome);
  }

  private request(kind: LoadKind): { method: string; path: string; token?: string; body?: unknown } {
    switch (kind) {
      case 'rng':
        return { method: 'GET', path: '/api/v1/rng/8' };
      case 'feed':
        return { method: 'GET', path: '/api/v1/social/feed?limit=20', token: this.options.reader!.accessToken };
      case 'me':
        return { method: 'GET', path: '/api/v1/auth/me', token: this.options.reader!.accessToken };
      case 'send':
        return {
          method: 'POST',
          path: `/api/v1/messenger/chats/${this.options.chatId}/messages`,
          token: this.options.sender!.accessToken,
          body: { text: `chaos ${this.sequence}`, clientMessageId: randomUUID() },
        };
    }
  }

  /** One request, on the next gateway; a refused connection moves on to the one after. */
  private async call(method: string, path: string, token: string | undefined, body: unknown): Promise<{ status: number; json: any }> {
    const { gateways } = this.options;
    for (let tried = 0; ; tried++) {
      const gateway = gateways[this.next++ % gateways.length]!;
      try {
        const response = await fetch(`${gateway}${path}`, {
          method,
          headers: {
            ...(token && { authorization: `Bearer ${token}` }),
            ...(body !== undefined && { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
          dispatcher: this.agent,
        });
        const text = await response.text();
        let json: any;
        try {
          json = text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        return { status: response.status, json };
      } catch (error) {
        if (networkReason(error) === 'ECONNREFUSED' && tried + 1 < gateways.length) {
          this.edgeRetries += 1;
          continue;
        }
        throw error;
      }
    }
  }
}

/** `timeout`, or the system error code under fetch's TypeError (ECONNREFUSED, ECONNRESET...). */
function networkReason(error: unknown): string {
  const e = error as { name?: string; cause?: { code?: string; name?: string }; code?: string };
  if (e?.name === 'TimeoutError' || e?.cause?.name === 'TimeoutError') return 'timeout';
  return e?.cause?.code ?? e?.code ?? e?.name ?? 'error';
}
