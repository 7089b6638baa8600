/**
 * The SQL helpers every service with tables uses over its pool (ctx.mysql()): rows, statements,
 * transactions and the one time format, identical on MySQL 8 and MariaDB 10.11.
 */
import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';

/** A pool or one of its connections (inside a transaction or holding a lock). */
export type Db = Pool | PoolConnection;

/**
 * Rows of a SELECT. `dateStrings`: DATETIME and DATE come back as the text stored, never through
 * the process's local time zone; every time here is written and read as UTC (toSqlTime /
 * fromSqlTime), so the server's and the client's time zones never matter.
 */
export async function selectRows<T>(db: Db, sql: string, values: unknown[] = []): Promise<T[]> {
  const [rows] = await db.query<RowDataPacket[]>({ sql, values, dateStrings: true });
  return rows as T[];
}

export async function execute(db: Db, sql: string, values: unknown[] = []): Promise<ResultSetHeader> {
  const [result] = await db.query<ResultSetHeader>({ sql, values });
  return result;
}

/** Epoch ms → 'YYYY-MM-DD HH:MM:SS.mmm' (UTC) for a DATETIME(3) column. */
export const toSqlTime = (ms: number): string => new Date(ms).toISOString().slice(0, 23).replace('T', ' ');

/** A DATETIME(3) read with dateStrings → epoch ms (it holds UTC, see toSqlTime). */
export const fromSqlTime = (text: string): number => Date.parse(`${text.replace(' ', 'T')}Z`);

export function isDuplicateKey(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === 'ER_DUP_ENTRY';
}

/**
 * InnoDB's verdicts that roll a transaction back through no fault of its own: a deadlock
 * (1213, the transaction was chosen as the victim) and a lock wait timeout (1205). Running the
 * same work again is what MySQL's manual prescribes for both.
 */
export function isTransientLockError(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === 'ER_LOCK_DEADLOCK' || code === 'ER_LOCK_WAIT_TIMEOUT';
}

/** Attempts of one transaction that deadlocks: the first and two more. */
const TRANSACTION_ATTEMPTS = 3;

/**
 * Runs `work` in a transaction on one connection: committed if it resolves, rolled back if it
 * throws. A deadlock or lock wait timeout runs the whole of `work` again (at most
 * TRANSACTION_ATTEMPTS times, after a short random pause so the two sides do not meet again),
 * so concurrent writers to the same rows never see a 500: `work` must therefore do nothing
 * outside the database that cannot be repeated.
 */
export async function inTransaction<T>(pool: Pool, work: (connection: PoolConnection) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transactionOnce(pool, work);
    } catch (error) {
      if (attempt >= TRANSACTION_ATTEMPTS || !isTransientLockError(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20 * attempt));
    }
  }
}

async function transactionOnce<T>(pool: Pool, work: (connection: PoolConnection) => Promise<T>): Promise<T> {
  const connection = await pool.getConnection();
  let reusable = true;
  try {
    await connection.beginTransaction();
    const result = await work(connection);
    await connection.commit();
    return result;
  } catch (error) {
    // A connection whose rollback failed may still hold the transaction: never lend it again.
    await connection.rollback().catch(() => (reusable = false));
    throw error;
  } finally {
    if (reusable) connection.release();
    else connection.destroy();
  }
}

/** `value` as a LIKE prefix pattern: its own % and _ match literally (escape character '!'). */
export const likePrefix = (value: string): string => `${value.replace(/[!%_]/g, '!$&')}%`;
