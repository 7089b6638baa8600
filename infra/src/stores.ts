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
