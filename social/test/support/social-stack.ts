/**
 * A private social deployment for one test file: auth and social as real processes (IsolatedStack:
 * their own Consul names), on their own database (created, migrated with the real migration
 * runner, dropped afterwards), with their own Redis key prefixes and signing keys. Users are
 * signed up and signed in through auth directly, as a client would (the gateway is not part of
 * these tests).
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
  lastName: string;
  token: string;
}

export class SocialTestStack {
  private readonly database = new TestDatabase('social_test');
  readonly mysqlUrl = this.database.url;
  /** Short and unique: names, emails and post texts of this run carry it. */
  readonly run = this.database.run;
  readonly redisPrefix = `${this.database.redisPrefix}social:`;
  readonly stack: IsolatedStack<'auth' | 'social'>;
  auth!: Running;
  social!: Running;
  private redisClient: Redis | undefined;
  private people = 0;

  constructor(env: Record<string, string> = {}) {
    this.stack = new IsolatedStack(
      { auth: 'auth/src/main.ts', social: 'social/src/main.ts' },
      {
        MYSQL_URL: this.mysqlUrl,
        AUTH_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        AUTH_REDIS_PREFIX: `${this.database.redisPrefix}auth:`,
        SOCIAL_REDIS_PREFIX: this.redisPrefix,
        ACCESS_LOG: 'false',
        ...env,
      },
    );
  }

  /** Creates and migrates the database (services never create tables), then starts auth and social. */
  async start(): Promise<void> {
    await this.database.migrate(['auth', 'social']);
    [[this.auth], [this.social]] = await Promise.all([this.stack.startPassing('auth', 1), this.stack.startPassing('social', 1)]);
  }

  /** A new user, signed up and signed in through auth. */
  async user(firstName: string, lastName = `Social${this.run}`): Promise<TestUser> {
    this.people += 1;
    const email = `${firstName.toLowerCase().replace(/[^a-z]/g, '')}.${this.people}@${this.run}.social.test`;
    const password = `correct horse ${this.run} battery`;
    const created = await call(this.auth.url, 'POST', '/sign-up', { body: { email, password, firstName, lastName, birthday: '1990-04-01' } });
    if (created.status !== 201) throw new Error(`sign-up answered ${created.status}: ${JSON.stringify(created.body)}`);
    const signedIn = await call(this.auth.url, 'POST', '/sign-in', { body: { email, password } });
    if (signedIn.status !== 200) throw new Error(`sign-in answered ${signedIn.status}: ${JSON.stringify(signedIn.body)}`);
    return { id: created.body.id, email, firstName, lastName, token: signedIn.body.accessToken };
  }

  /** One call to the social instance, as `as` (no token when undefined). */
  api(as: TestUser | undefined, method: string, path: string, options: Omit<CallOptions, 'token'> = {}): Promise<Answer> {
    return call(this.social.url, method, path, { ...options, token: as?.token });
  }

  /** A pool on the test database, for assertions. */
  db(): Pool {
    return this.database.db();
  }

  /** A fingerprint of social's tables: equal before and after means nothing was written. */
  snapshot(): Promise<string> {
    return this.database.checksum(['friendships', 'posts']);
  }

  redis(): Redis {
    this.redisClient ??= new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    return this.redisClient;
  }

  /** The Redis key of a user's cached feed (store/feed-cache.ts's layout). */
  feedKey(userId: string): string {
    return `${this.redisPrefix}{user:${userId}}:feed`;
  }

  /** Stops the processes, then drops the database and this run's Redis keys. Never throws. */
  async teardown(): Promise<void> {
    await this.stack.stopAll();
    this.redisClient?.disconnect();
    await this.database.drop();
  }
}

export interface CallOptions {
  body?: unknown;
  /** Sent as is (invalid JSON, odd encodings). */
  rawBody?: string;
  contentType?: string;
  token?: string;
  /** A raw Authorization header (forged schemes and the like). */
  authorization?: string;
}

export async function call(baseUrl: string, method: string, path: string, options: CallOptions = {}): Promise<Answer> {
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const authorization = options.authorization ?? (options.token ? `Bearer ${options.token}` : undefined);
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(body !== undefined && { 'content-type': options.contentType ?? 'application/json' }),
      ...(authorization && { authorization }),
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
