/**
 * A private social deployment for one test file: auth and social as real processes (IsolatedStack:
 * their own Consul names), on their own database (created, migrated with the real migration
 * runner, dropped afterwards), with their own Redis key prefixes and signing keys. Users are
 * signed up and signed in through auth directly, as a client would (the gateway is not part of
 * these tests).
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ensureDatabase, runMigrations } from '@switchyard/infra/migrations';
import { Redis } from 'ioredis';
import mysql, { type Pool } from 'mysql2/promise';
import { IsolatedStack, type Running } from '../../../test/support/isolated-stack.js';
import { uniqueName } from '../../../test/support/wait.js';

const MIGRATIONS = {
  auth: fileURLToPath(new URL('../../../auth/migrations', import.meta.url)),
  social: fileURLToPath(new URL('../../migrations', import.meta.url)),
};
const SERVER = process.env.TEST_MYSQL_SERVER ?? 'mysql://root@127.0.0.1:3306';
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
  readonly database = uniqueName('social_test').replace(/-/g, '_');
  readonly mysqlUrl = `${SERVER}/${this.database}`;
  /** Short and unique: names, emails and post texts of this run carry it. */
  readonly run = this.database.replace(/[^a-z0-9]/gi, '').slice(-8);
  readonly redisPrefix = `test:${this.database}:social:`;
  readonly stack: IsolatedStack<'auth' | 'social'>;
  auth!: Running;
  social!: Running;
  private pool: Pool | undefined;
  private redisClient: Redis | undefined;
  private people = 0;

  constructor(env: Record<string, string> = {}) {
    this.stack = new IsolatedStack(
      { auth: 'auth/src/main.ts', social: 'social/src/main.ts' },
      {
        MYSQL_URL: this.mysqlUrl,
        AUTH_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        AUTH_REDIS_PREFIX: `test:${this.database}:auth:`,
        SOCIAL_REDIS_PREFIX: this.redisPrefix,
        ACCESS_LOG: 'false',
        ...env,
      },
    );
  }

  /** Creates and migrates the database (services never create tables), then starts auth and social. */
  async start(): Promise<void> {
    await ensureDatabase(this.mysqlUrl);
    await runMigrations({ mysqlUrl: this.mysqlUrl, service: 'auth', dir: MIGRATIONS.auth });
    await runMigrations({ mysqlUrl: this.mysqlUrl, service: 'social', dir: MIGRATIONS.social });
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
    this.pool ??= mysql.createPool({ uri: this.mysqlUrl, connectionLimit: 2, dateStrings: true });
    return this.pool;
  }

  /** A fingerprint of social's tables: equal before and after means nothing was written. */
  async snapshot(): Promise<string> {
    const [rows] = await this.db().query('CHECKSUM TABLE friendships, posts');
    return JSON.stringify(rows);
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
    await this.pool?.end().catch(() => undefined);
    const admin = await mysql.createConnection({ uri: this.mysqlUrl }).catch(() => undefined);
    await admin?.query(`DROP DATABASE IF EXISTS \`${this.database}\``).catch(() => undefined);
    await admin?.end().catch(() => undefined);
    try {
      const redis = this.redis();
      const keys = await redis.keys(`test:${this.database}:*`);
      if (keys.length > 0) await redis.del(...keys);
    } catch {
      // Keys expire with their TTL anyway.
    } finally {
      this.redisClient?.disconnect();
    }
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
