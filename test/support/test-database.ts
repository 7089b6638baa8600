/**
 * A private database for one test file or benchmark: created and migrated with the real
 * migration runner (services never create tables), a small pool for assertions, and a teardown
 * that drops it together with the Redis keys under the run's prefix. Every stack of the
 * application's tests (auth, social, messenger, the app behind its gateway) stands on one.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDatabase, runMigrations } from '@switchyard/infra/migrations';
import { Redis } from 'ioredis';
import mysql, { type Pool } from 'mysql2/promise';
import { REPO_ROOT } from './processes.js';
import { uniqueName } from './wait.js';

const SERVER = process.env.TEST_MYSQL_SERVER ?? 'mysql://root@127.0.0.1:3306';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The services whose tables live in `<service>/migrations/`. */
export type MigratedService = 'auth' | 'social' | 'messenger';

export class TestDatabase {
  readonly name: string;
  readonly url: string;
  /** Short and unique: names, emails and texts of this run carry it. */
  readonly run: string;
  /** Every Redis key of this run starts with it (give each service its own sub-prefix). */
  readonly redisPrefix: string;
  private pool: Pool | undefined;

  constructor(prefix: string) {
    this.name = uniqueName(prefix).replace(/-/g, '_');
    this.url = `${SERVER}/${this.name}`;
    this.run = this.name.replace(/[^a-z0-9]/gi, '').slice(-8);
    this.redisPrefix = `test:${this.name}:`;
  }

  /** Creates the database and applies the migrations of `services`, in that order. */
  async migrate(services: readonly MigratedService[]): Promise<void> {
    await ensureDatabase(this.url);
    for (const service of services) {
      const dir = join(REPO_ROOT, service, 'migrations');
      if (existsSync(dir)) await runMigrations({ mysqlUrl: this.url, service, dir });
    }
  }

  /** A pool on the test database, for assertions and fixtures. */
  db(): Pool {
    this.pool ??= mysql.createPool({ uri: this.url, connectionLimit: 2, dateStrings: true });
    return this.pool;
  }

  /** A fingerprint of `tables`: equal before and after means nothing was written. */
  async checksum(tables: readonly string[]): Promise<string> {
    const [rows] = await this.db().query(`CHECKSUM TABLE ${tables.join(', ')}`);
    return JSON.stringify(rows);
  }

  /** Drops the database and this run's Redis keys. Never throws: cleanup must not hide a test's failure. */
  async drop(): Promise<void> {
    await this.pool?.end().catch(() => undefined);
    this.pool = undefined;
    const admin = await mysql.createConnection({ uri: this.url }).catch(() => undefined);
    await admin?.query(`DROP DATABASE IF EXISTS \`${this.name}\``).catch(() => undefined);
    await admin?.end().catch(() => undefined);
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      const keys = await redis.keys(`${this.redisPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
    } catch {
      // Keys expire with their TTL anyway.
    } finally {
      redis.disconnect();
    }
  }
}
