import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';

/**
 * Rows of a SELECT. `dateStrings`: DATETIME comes back as the text stored, never through the
 * process's local time zone; every time here is written and read as UTC (toSqlTime /
 * fromSqlTime), so neither the server's nor the client's time zone matters.
 */
export async function selectRows<T>(db: Pool, sql: string, values: unknown[] = []): Promise<T[]> {
  const [rows] = await db.query<RowDataPacket[]>({ sql, values, dateStrings: true });
  return rows as T[];
}

export async function execute(db: Pool, sql: string, values: unknown[] = []): Promise<ResultSetHeader> {
  const [result] = await db.query<ResultSetHeader>({ sql, values });
  return result;
}

/** Epoch ms → 'YYYY-MM-DD HH:MM:SS.mmm' (UTC) for a DATETIME(3) column. */
export const toSqlTime = (ms: number): string => new Date(ms).toISOString().slice(0, 23).replace('T', ' ');

/** A DATETIME(3) read with dateStrings → epoch ms (it holds UTC, see toSqlTime). */
export const fromSqlTime = (text: string): number => Date.parse(`${text.replace(' ', 'T')}Z`);

export const isDuplicateKey = (error: unknown): boolean => (error as { code?: string } | null)?.code === 'ER_DUP_ENTRY';
