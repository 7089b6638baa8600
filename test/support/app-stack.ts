/**
 * A private copy of the application behind its gateway, for tests and benchmarks that go through
 * the public API: the gateway and the application services as real processes (IsolatedStack:
 * their own Consul names), on their own database (created, migrated with the real migration
 * runner, dropped afterwards), with their own Redis key prefixes and signing keys. Users sign up
 * and sign in through the gateway, as any client would.
 */
import { randomBytes } from 'node:crypto';
import { IsolatedStack, type Running } from './isolated-stack.js';
import { TestDatabase } from './test-database.js';
import { waitFor } from './wait.js';

export type AppService = 'gateway' | 'auth' | 'social' | 'messenger' | 'rng';

const ENTRIES: Record<AppService, string> = {
  gateway: 'gateway/src/main.ts',
  auth: 'auth/src/main.ts',
  social: 'social/src/main.ts',
  messenger: 'messenger/src/main.ts',
  // The miner's rng: a route that needs neither MySQL nor Redis (the chaos suite's "unaffected" one).
  rng: 'miner/src/rng/main.ts',
};

export interface Answer {
  status: number;
  headers: Headers;
  body: any;
  /** The upstream instance that answered (x-served-by). */
  servedBy: string | null;
}

export interface AppUser {
  id: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export class AppStack {
  readonly database = new TestDatabase('app_test');
  /** Short and unique: this run's names and emails carry it. */
  readonly run = this.database.run;
  readonly stack: IsolatedStack<AppService>;
  gateway!: Running;
  private people = 0;

  /** `env`: variables for every process (tracing, shorter timeouts...). */
  constructor(env: Record<string, string> = {}) {
    const prefix = this.database.redisPrefix;
    this.stack = new IsolatedStack(ENTRIES, {
      MYSQL_URL: this.database.url,
      AUTH_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      AUTH_REDIS_PREFIX: `${prefix}auth:`,
      SOCIAL_REDIS_PREFIX: `${prefix}social:`,
      ACCESS_LOG: 'false',
      ...env,
    });
  }

  /** Creates and migrates the database (services never create tables), for every service that has migrations. */
  prepare(): Promise<void> {
    return this.database.migrate(['auth', 'social', 'messenger']);
  }

  /**
   * Prepares the database, then starts one gateway and `counts` instances of each service, and
   * waits until Consul lists them all as passing.
   */
  async start<S extends Exclude<AppService, 'gateway'>>(
    counts: Record<S, number>,
    gatewayEnv: Record<string, string> = {},
  ): Promise<Record<S, [Running, ...Running[]]>> {
    await this.prepare();
    const services = Object.keys(counts) as S[];
    const [gateway, ...instances] = await Promise.all([
      this.stack.start('gateway', gatewayEnv),
      ...services.map((service) => this.stack.startPassing(service, counts[service])),
    ]);
    this.gateway = gateway as Running;
    await this.waitGatewaySees(gateway as Running, (instances as Running[][]).flat().map((instance) => instance.serviceId));
    return Object.fromEntries(services.map((service, i) => [service, instances[i]])) as Record<S, [Running, ...Running[]]>;
  }

  /**
   * Waits until `gateway`'s watchers list every one of `serviceIds` as passing. Passing in Consul
   * is not yet known to a gateway: its watchers hear of it a moment later, and a first call in
   * between would be answered 503 no_healthy_instance.
   */
  async waitGatewaySees(gateway: Running, serviceIds: readonly string[]): Promise<void> {
    await waitFor(`gateway ${gateway.serviceId} to see every instance passing`, async () => {
      const view = (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics/upstreams`).then((r) => r.json())) as { upstreams: Array<{ passing: string[] }> };
      const seen = new Set(view.upstreams.flatMap((upstream) => upstream.passing));
      return serviceIds.every((id) => seen.has(id));
    }, { timeoutMs: 10_000 });
  }

  /** One call through the gateway. */
  async call(method: string, path: string, options: CallOptions = {}): Promise<Answer> {
    const response = await fetch(`${this.gateway.url}${path}`, {
      method,
      headers: {
        ...(options.body !== undefined && { 'content-type': 'application/json' }),
        ...(options.token && { authorization: `Bearer ${options.token}` }),
        ...options.headers,
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // Left as text: an assertion expecting JSON shows it.
    }
    return { status: response.status, headers: response.headers, body, servedBy: response.headers.get('x-served-by') };
  }

  /** A new user, signed up and signed in through the gateway. */
  async user(firstName: string, lastName = `App${this.run}`): Promise<AppUser> {
    this.people += 1;
    const email = `${firstName.toLowerCase().replace(/[^a-z]/g, '')}.${this.people}@${this.run}.app.test`;
    const password = `correct horse ${this.run} battery`;
    const created = await this.call('POST', '/api/v1/auth/sign-up', {
      body: { email, password, firstName, lastName, birthday: '1990-04-01' },
    });
    if (created.status !== 201) throw new Error(`sign-up answered ${created.status}: ${JSON.stringify(created.body)}`);
    const signedIn = await this.call('POST', '/api/v1/auth/sign-in', { body: { email, password } });
    if (signedIn.status !== 200) throw new Error(`sign-in answered ${signedIn.status}: ${JSON.stringify(signedIn.body)}`);
    return { id: created.body.id, email, password, accessToken: signedIn.body.accessToken, refreshToken: signedIn.body.refreshToken };
  }

  /** Makes `a` and `b` friends through the social API. */
  async befriend(a: AppUser, b: AppUser): Promise<void> {
    const asked = await this.call('POST', '/api/v1/social/friends/requests', { token: a.accessToken, body: { userId: b.id } });
    if (asked.status !== 201) throw new Error(`friend request answered ${asked.status}: ${JSON.stringify(asked.body)}`);
    const accepted = await this.call('POST', `/api/v1/social/friends/requests/${a.id}/accept`, { token: b.accessToken });
    if (accepted.status !== 200) throw new Error(`accept answered ${accepted.status}: ${JSON.stringify(accepted.body)}`);
  }

  /** Stops the processes, then drops the database and this run's Redis keys. Never throws. */
  async teardown(): Promise<void> {
    await this.stack.stopAll();
    await this.database.drop();
  }
}
