import { createRequire } from 'node:module';
import type { Redis, RedisOptions } from 'ioredis';
import type { Pool, PoolOptions } from 'mysql2/promise';
import { boundConnectionWait } from './mysql-acquire-timeout.js';
import { registerStoreInstrumentations } from './tracing.js';

// Loaded through require() on purpose: OpenTelemetry patches CommonJS modules as they are
// required, so loading them here, after the instrumentations are registered, traces every command.
const require = createRequire(import.meta.url);

export function createRedis(url: string, options: RedisOptions = {}): Redis {
  registerStoreInstrumentations();
  const { Redis: RedisClient } = require('ioredis') as typeof import('ioredis');
  return new RedisClient(url, {
    // Fail fast while Redis is down instead of queueing commands without bound.
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    connectTimeout: 2_000,
    // A command that never answers (a wedged server) fails instead of hanging its caller forever.
    commandTimeout: 3_000,
    lazyConnect: false,
    ...options,
  });
}

/**
 * A query fails within about 2 s while MySQL is unreachable (then maps to 503
 * dependency_unavailable) instead of waiting in the pool's queue: connecting is bounded by
 * connectTimeout, waiting for a connection by acquireTimeoutMs, and the queue by queueLimit.
 */
export function createMysqlPool(url: string, options: PoolOptions & { acquireTimeoutMs?: number } = {}): Pool {
  registerStoreInstrumentations();
  const mysql = require('mysql2/promise') as typeof import('mysql2/promise');
  const { acquireTimeoutMs = 1_800, ...poolOptions } = options;
  const pool = mysql.createPool({
    uri: url,
    connectionLimit: 10,
    waitForConnections: true,
    queueLimit: 500,
    connectTimeout: 2_000,
    ...poolOptions,
  });
  return boundConnectionWait(pool, acquireTimeoutMs);
}

/**
 * Readiness of MySQL on a connection of its own, never one of the pool's: a pool saturated by
 * load (every connection busy, callers queueing) is a busy instance, not a broken one. Probing
 * through the pool would fail the check exactly when the instance is most needed, Consul would
 * mark it critical, and its callers would lose their only instances under load. A ping (not a
 * query) keeps the probe out of the traces. The connection is made on first use and again after
 * any failure, so a MySQL that comes back makes the instance ready again by itself.
 */
export function createMysqlProbe(url: string): { probe: () => Promise<void>; close: () => Promise<void> } {
  const mysql = require('mysql2/promise') as typeof import('mysql2/promise');
  let current: Promise<import('mysql2/promise').Connection> | undefined;
  const connect = () => {
    const made = mysql.createConnection({ uri: url, connectTimeout: 2_000 });
    // A connection that dies between probes (MySQL restarted) must not take the process down.
    made.then((c) => c.on('error', () => (current === made ? (current = undefined) : undefined))).catch(() => undefined);
    return made;
  };
  const forget = (failed: typeof current) => {
    if (current === failed) current = undefined;
    failed?.then((c) => c.destroy()).catch(() => undefined);
  };
  return {
    async probe() {
      const connection = (current ??= connect());
      try {
        await (await connection).ping();
      } catch (error) {
        forget(connection);
        throw error;
      }
    },
    async close() {
      const connection = current;
      current = undefined;
      await connection?.then((c) => c.end()).catch(() => undefined);
    },
  };
}
