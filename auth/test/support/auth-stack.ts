/**
 * A private auth deployment for one test file: its own database (created, migrated with the real
 * migration runner, dropped afterwards), its own signing-key ring (a fresh
 * AUTH_KEY_ENCRYPTION_KEY), its own Redis key prefix and Consul names (IsolatedStack). Nothing a
 * test does here can meet another test's users, keys or login counters.
 */
import { randomBytes } from 'node:crypto';
import type { Pool } from 'mysql2/promise';
import { IsolatedStack } from '../../../test/support/isolated-stack.js';
import { TestDatabase } from '../../../test/support/test-database.js';

export class AuthTestStack {
  private readonly database = new TestDatabase('auth_test');
  /** Short and unique: this run's emails and names carry it. */
  readonly run = this.database.run;
  readonly mysqlUrl = this.database.url;
  readonly keyEncryptionKey = randomBytes(32).toString('base64');
  readonly redisPrefix = this.database.redisPrefix;
  readonly stack: IsolatedStack<'auth'>;

  constructor(env: Record<string, string> = {}) {
    this.stack = new IsolatedStack({ auth: 'auth/src/main.ts' }, {
      MYSQL_URL: this.mysqlUrl,
      AUTH_KEY_ENCRYPTION_KEY: this.keyEncryptionKey,
      AUTH_REDIS_PREFIX: this.redisPrefix,
      ACCESS_LOG: 'false',
      ...env,
    });
  }

  /** Creates and migrates the database (before any instance starts: services never create tables). */
  prepare(): Promise<void> {
    return this.database.migrate(['auth']);
  }

  /** A pool on the test database, for assertions and fixtures. */
  db(): Pool {
    return this.database.db();
  }

  /** A fingerprint of every auth table: equal before and after means nothing was written. */
  snapshot(): Promise<string> {
    return this.database.checksum(['users', 'sessions', 'refresh_tokens', 'signing_keys']);
  }

  /** Stops the processes, then drops the database and this run's Redis keys. Never throws. */
  async teardown(): Promise<void> {
    await this.stack.stopAll();
    await this.database.drop();
  }
}

export interface Answer {
  status: number;
  headers: Headers;
  body: any;
  ms: number;
}

/** One HTTP call to an instance; `from` sets X-Forwarded-For (the instance trusts loopback peers). */
export async function call(
  baseUrl: string,
  method: string,
  path: string,
  options: { body?: unknown; rawBody?: string; contentType?: string; token?: string; from?: string } = {},
): Promise<Answer> {
  const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const started = performance.now();
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(body !== undefined && { 'content-type': options.contentType ?? 'application/json' }),
      ...(options.token && { authorization: `Bearer ${options.token}` }),
      ...(options.from && { 'x-forwarded-for': options.from }),
    },
    body,
  });
  const text = await response.text();
  const ms = performance.now() - started;
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // Left as text: the assertion that expected JSON says so.
  }
  return { status: response.status, headers: response.headers, body: parsed, ms };
}

let addressCounter = 0;
/** A client address no other call in this process used (TEST-NET-3 and 198.18/15 benchmark space). */
export function freshAddress(): string {
  addressCounter += 1;
  return `198.18.${Math.floor(addressCounter / 250) % 250}.${(addressCounter % 250) + 1}`;
}
