/**
 * A private messenger deployment for one test file: auth and messenger as real processes
 * (IsolatedStack: their own Consul names and live-event channels), on their own database
 * (created, migrated with the real migration runner, dropped afterwards), with their own signing
 * keys. Users are signed up and signed in through auth directly, as a client would; calls go to a
 * messenger instance directly, or through a gateway of the stack's own (`startGateway`).
 * `listen()` hears the live events messenger publishes on Redis for this stack.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Pool } from 'mysql2/promise';
import { IsolatedStack, type Running } from '../../../test/support/isolated-stack.js';
import { TestDatabase } from '../../../test/support/test-database.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

export interface TestUser {
  id: string;
  email: string;
  firstName: string;
  token: string;
}

/** The live events published for this stack's users, as heard on Redis. */
export interface EventLog {
  /** Events for `userId`, in the order Redis delivered them. */
  of(userId: string): any[];
  close(): Promise<void>;
}

export class MessengerTestStack {
  private readonly database = new TestDatabase('messenger_test');
  readonly mysqlUrl = this.database.url;
  /** Short and unique: names and emails of this run carry it. */
  readonly run = this.database.run;
  readonly stack: IsolatedStack<'auth' | 'messenger' | 'gateway'>;
  auth!: Running;
  gateway: Running | undefined;
  /** The messenger instances started so far (`start` starts one; `addInstance` more). */
  readonly instances: Running[] = [];
  private people = 0;

  constructor(env: Record<string, string> = {}) {
    this.stack = new IsolatedStack(
      { auth: 'auth/src/main.ts', messenger: 'messenger/src/main.ts', gateway: 'gateway/src/main.ts' },
      {
        MYSQL_URL: this.mysqlUrl,
        AUTH_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        AUTH_REDIS_PREFIX: `${this.database.redisPrefix}auth:`,
        ACCESS_LOG: 'false',
        ...env,
      },
    );
  }

  get messenger(): Running {
    return this.instances[0]!;
  }

  /** Creates and migrates the database (services never create tables), then starts auth and `count` messenger instances. */
  async start(count = 1): Promise<void> {
    await this.database.migrate(['auth', 'messenger']);
    const [[auth], messengers] = await Promise.all([this.stack.startPassing('auth', 1), this.stack.startPassing('messenger', count)]);
    this.auth = auth;
    this.instances.push(...messengers);
  }

  /** Starts the stack's gateway (call after start()); `viaGateway` calls go through it. */
  async startGateway(): Promise<Running> {
    this.gateway = await this.stack.start('gateway');
    return this.gateway;
  }

  /** One call through the stack's gateway, on the public path (`/api/v1/messenger/...`). */
  viaGateway(as: TestUser | undefined, method: string, path: string, options: Omit<CallOptions, 'token'> = {}): Promise<Answer> {
    if (!this.gateway) throw new Error('startGateway() first');
    return call(this.gateway.url, method, path, { ...options, token: as?.token });
  }

  /** A new user, signed up and signed in through auth. */
  async user(firstName: string): Promise<TestUser> {
    this.people += 1;
    const email = `${firstName.toLowerCase().replace(/[^a-z]/g, '')}.${this.people}@${this.run}.messenger.test`;
    const password = `correct horse ${this.run} battery`;
    const created = await call(this.auth.url, 'POST', '/sign-up', {
      body: { email, password, firstName, lastName: `Chat${this.run}`, birthday: '1990-04-01' },
    });
    if (created.status !== 201) throw new Error(`sign-up answered ${created.status}: ${JSON.stringify(created.body)}`);
    const signedIn = await call(this.auth.url, 'POST', '/sign-in', { body: { email, password } });
    if (signedIn.status !== 200) throw new Error(`sign-in answered ${signedIn.status}: ${JSON.stringify(signedIn.body)}`);
    return { id: created.body.id, email, firstName, token: signedIn.body.accessToken };
  }

  /** One call to a messenger instance (the first by default), as `as` (no token when undefined). */
  api(as: TestUser | undefined, method: string, path: string, options: Omit<CallOptions, 'token'> & { instance?: Running } = {}): Promise<Answer> {
    const { instance = this.messenger, ...rest } = options;
    return call(instance.url, method, path, { ...rest, token: as?.token });
  }

  /** The dialog of two users (opened by `a`), asserting success. */
  async dialog(a: TestUser, b: TestUser): Promise<string> {
    const answer = await this.api(a, 'POST', '/chats', { body: { peerId: b.id } });
    if (answer.status !== 201 && answer.status !== 200) throw new Error(`POST /chats answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    return answer.body.id;
  }

  /** Sends a message, asserting it was stored (201). */
  async send(author: TestUser, chatId: string, text: string, clientMessageId = `k-${randomBytes(6).toString('hex')}`): Promise<any> {
    const answer = await this.api(author, 'POST', `/chats/${chatId}/messages`, { body: { text, clientMessageId } });
    if (answer.status !== 201) throw new Error(`send answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    return answer.body;
  }

  /** Subscribes to every live channel of this stack on Redis (resolves once subscribed). */
  async listen(): Promise<EventLog> {
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    const prefix = `live:${this.stack.suffix}:user:`;
    const byUser = new Map<string, any[]>();
    redis.on('pmessage', (_pattern: string, channel: string, message: string) => {
      const userId = channel.slice(prefix.length);
      byUser.set(userId, [...(byUser.get(userId) ?? []), JSON.parse(message).event]);
    });
    await redis.psubscribe(`${prefix}*`);
    return {
      of: (userId) => byUser.get(userId) ?? [],
      close: async () => void redis.disconnect(),
    };
  }

  /** A pool on the test database, for assertions. */
  db(): Pool {
    return this.database.db();
  }

  async count(table: 'chats' | 'chat_members' | 'messages'): Promise<number> {
    const [rows] = await this.db().query(`SELECT COUNT(*) AS n FROM ${table}`);
    return Number((rows as Array<{ n: number }>)[0]!.n);
  }

  /** A fingerprint of messenger's tables: equal before and after means nothing was written. */
  snapshot(): Promise<string> {
    return this.database.checksum(['chats', 'chat_members', 'messages']);
  }

  /** Stops the processes, then drops the database and this run's Redis keys. Never throws. */
  async teardown(): Promise<void> {
    await this.stack.stopAll();
    await this.database.drop();
  }
}

export interface CallOptions {
  body?: unknown;
  /** Sent as is (invalid JSON, odd encodings). */
  rawBody?: string;
  contentType?: string;
  token?: string;
}

export async function call(baseUrl: string, method: string, path: string, options: CallOptions = {}): Promise<Answer> {
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(body !== undefined && { 'content-type': options.contentType ?? 'application/json' }),
      ...(options.token && { authorization: `Bearer ${options.token}` }),
    },
    body,
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // Left as text: an assertion expecting JSON shows it.
  }
  return { status: response.status, headers: response.headers, body: parsed };
}
