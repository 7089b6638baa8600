import type { Pool } from 'mysql2/promise';

/** The code of the error a query gets when no connection came within the bound. */
export const ACQUIRE_TIMEOUT_CODE = 'POOL_ACQUIRE_TIMEOUT';

type ConnectionCallback = (error: NodeJS.ErrnoException | null, connection?: { release(): void }) => void;
interface CorePool {
  getConnection(callback: ConnectionCallback): void;
}

/**
 * Bounds how long a query waits for a connection of `pool`. mysql2's pool has no such bound: a
 * query queued behind busy or still-connecting connections waits until one frees up, however
 * long that takes, so a database outage would hold requests instead of failing them. Every way
 * in (query, execute, getConnection) goes through the core pool's getConnection, which this
 * wraps: past `timeoutMs` the caller gets an error (code POOL_ACQUIRE_TIMEOUT) and a connection
 * that arrives later goes straight back to the pool.
 */
export function boundConnectionWait(pool: Pool, timeoutMs: number): Pool {
  const core = (pool as unknown as { pool: CorePool }).pool;
  const getConnection = core.getConnection.bind(core);
  core.getConnection = (callback) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      const error: NodeJS.ErrnoException = new Error(`no MySQL connection within ${timeoutMs} ms`);
      error.code = ACQUIRE_TIMEOUT_CODE;
      callback(error);
    }, timeoutMs);
    getConnection((error, connection) => {
      clearTimeout(timer);
      if (settled) {
        connection?.release();
        return;
      }
      settled = true;
      callback(error, connection);
    });
  };
  return pool;
}
