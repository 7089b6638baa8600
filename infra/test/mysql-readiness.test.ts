/**
 * MySQL readiness on a connection of its own (real MariaDB): a pool saturated by slow queries
 * leaves the instance ready (busy is not broken, so Consul keeps routing to it), while a MySQL
 * that cannot be reached makes it not ready.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createMysqlPool, createMysqlProbe } from '../src/stores.js';

const URL = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/mysql';

describe('MySQL readiness probe (real MariaDB)', () => {
  const pool = createMysqlPool(URL, { connectionLimit: 1, acquireTimeoutMs: 5_000 });
  const probe = createMysqlProbe(URL);
  afterAll(async () => {
    await probe.close();
    await pool.end();
  });

  it('answers at once while every pool connection is busy', async () => {
    await probe.probe();
    const busy = pool.query('SELECT SLEEP(1.5)');
    // The pool's only connection is taken: a query through the pool now waits behind it.
    const queued = pool.query('SELECT 1');
    const started = performance.now();
    await probe.probe();
    expect(performance.now() - started).toBeLessThan(500);
    await Promise.all([busy, queued]);
  });

  it('fails when MySQL cannot be reached', async () => {
    const unreachable = createMysqlProbe('mysql://root@127.0.0.1:1/mysql');
    await expect(unreachable.probe()).rejects.toThrow();
    await unreachable.close();
  });
});
