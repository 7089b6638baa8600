import { createRequire } from 'node:module';
import path from 'node:path';
import type { Connection } from 'mysql2/promise';
import type { RunnableMigration } from 'umzug';
import { listMigrationFiles, type MigrationFile } from './migration-files.js';
import { MysqlMigrationStorage } from './mysql-storage.js';
import { splitSqlStatements, statementKind } from './sql-statements.js';

// mysql2 is required lazily, as in stores.ts: OpenTelemetry patches it when it is first
// required, which must happen after the instrumentations are registered in a service process.
const require = createRequire(import.meta.url);
const mysql = () => require('mysql2/promise') as typeof import('mysql2/promise');

/** What the runner reports progress to: one line per applied file. A pino logger fits. */
export interface MigrationLogger {
  info(message: string): void;
}

export interface RunMigrationsOptions {
  /** `mysql://user:password@host:port/database`; the database must exist (see ensureDatabase). */
  mysqlUrl: string;
  /** The owner of the migrations, recorded beside each file name in `schema_migrations`. */
  service: string;
  /** The folder of `NNNN_description.sql` files. */
  dir: string;
  logger?: MigrationLogger;
  /** How long to wait for another runner working on the same database (default 60 s). */
  lockTimeoutSeconds?: number;
}

export interface MigrationsResult {
  service: string;
  /** Files applied by this run, in order (empty when everything was already applied). */
  applied: string[];
  /** Files in the folder, applied before or now. */
  total: number;
}

/** A migration failed: it names the file and the database's error; nothing after it ran. */
export class MigrationFailed extends Error {
  override name = 'MigrationFailed';
  constructor(
    readonly service: string,
    readonly file: string,
    readonly reason: string,
    readonly appliedBefore: string[],
    options?: { cause?: unknown },
  ) {
    super(`migration ${file} (${service}) failed: ${reason}; it and every later file were not applied`, options);
  }
}

/**
 * Applies a service's pending migrations in file-name order with umzug, recording each in
 * `schema_migrations`. A file with a DDL statement must hold only that one statement: MySQL
 * commits DDL implicitly, so a file mixing statements could stop half-applied with no way back.
 * A DML-only file runs in one transaction together with its record: applied and recorded, or
 * neither. The first failure stops the run (umzug runs files one by one and stops at a throw).
 * Runners on one database take turns (GET_LOCK), so two `make migrate` at once are safe.
 */
export async function runMigrations(options: RunMigrationsOptions): Promise<MigrationsResult> {
  const { service, dir, logger } = options;
  const files = await listMigrationFiles(dir);
  // Loaded here, not at the top: every service imports @switchyard/infra, few run migrations.
  const { Umzug, MigrationError } = await import('umzug');
  const connection = await mysql().createConnection({ uri: options.mysqlUrl, connectTimeout: 5_000 });
  try {
    const database = connection.config.database;
    if (!database) throw new Error(`MYSQL_URL names no database (mysql://host:port/<database>)`);
    const lock = `migrations:${database}`.slice(0, 64);
    await takeLock(connection, lock, options.lockTimeoutSeconds ?? 60);
    try {
      const storage = new MysqlMigrationStorage(connection, service);
      await storage.ensureTable();
      const umzug = new Umzug({
        migrations: files.map((file) => sqlMigration(connection, storage, file)),
        storage,
        logger: undefined,
      });
      const applied: string[] = [];
      umzug.on('migrated', ({ name }) => {
        applied.push(name);
        logger?.info(`${service}: applied ${name}`);
      });
      try {
        await umzug.up();
      } catch (error) {
        throw error instanceof MigrationError ? failure(service, files, error, applied) : error;
      }
      return { service, applied, total: files.length };
    } finally {
      await connection.query('SELECT RELEASE_LOCK(?)', [lock]).catch(() => undefined);
    }
  } finally {
    await connection.end().catch(() => connection.destroy());
  }
}

/** `CREATE DATABASE IF NOT EXISTS` for the database named in the URL; returns its name. */
export async function ensureDatabase(mysqlUrl: string): Promise<string> {
  const url = new URL(mysqlUrl);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_$-]{1,64}$/.test(database)) {
    throw new Error(`MYSQL_URL must name a database of letters, digits, _, $ or - (got ${JSON.stringify(database)})`);
  }
  url.pathname = '/';
  const connection = await mysql().createConnection({ uri: url.toString(), connectTimeout: 5_000 });
  try {
    // utf8mb4_unicode_ci: the same collation on MySQL 8 and MariaDB 10.11 (their defaults differ).
    await connection.query(
      `CREATE DATABASE IF NOT EXISTS ${connection.escapeId(database)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    );
    return database;
  } finally {
    await connection.end().catch(() => connection.destroy());
  }
}

async function takeLock(connection: Connection, lock: string, timeoutSeconds: number): Promise<void> {
  const [rows] = await connection.query('SELECT GET_LOCK(?, ?) AS locked', [lock, timeoutSeconds]);
  if ((rows as Array<{ locked: number | null }>)[0]?.locked !== 1) {
    throw new Error(`another migration run holds the lock '${lock}' for more than ${timeoutSeconds}s; try again when it is done`);
  }
}

function sqlMigration(connection: Connection, storage: MysqlMigrationStorage, file: MigrationFile): RunnableMigration<unknown> {
  return {
    name: file.name,
    path: file.path,
    async up() {
      const statements = splitSqlStatements(await file.read());
      if (statements.length === 0) throw new Error('the file holds no SQL statement');
      const kinds = statements.map(statementKind);
      if (kinds.includes('transaction-control')) {
        throw new Error('the file controls transactions itself (BEGIN/COMMIT/...); the runner wraps DML files in one');
      }
      if (kinds.includes('ddl')) {
        if (statements.length > 1) {
          throw new Error(
            `the file holds ${statements.length} statements, one of them DDL: put each DDL statement in its own file ` +
              '(MySQL commits DDL implicitly, so a file of several statements cannot be applied atomically)',
          );
        }
        await runStatement(connection, statements[0]!, 0, 1);
        return;
      }
      await connection.beginTransaction();
      try {
        for (const [index, statement] of statements.entries()) {
          await runStatement(connection, statement, index, statements.length);
        }
        await storage.logMigration({ name: file.name });
        await connection.commit();
      } catch (error) {
        await connection.rollback().catch(() => undefined);
        throw error;
      }
    },
  };
}

async function runStatement(connection: Connection, statement: string, index: number, count: number): Promise<void> {
  try {
    await connection.query(statement);
  } catch (error) {
    const where = count > 1 ? `statement ${index + 1} of ${count}` : 'statement';
    const excerpt = statement.replace(/\s+/g, ' ').slice(0, 120);
    throw new Error(`${describeSqlError(error)} (${where}: ${excerpt}${statement.length > 120 ? '...' : ''})`, { cause: error });
  }
}

function describeSqlError(error: unknown): string {
  const sqlError = error as { code?: string; sqlMessage?: string; message?: string };
  const message = sqlError.sqlMessage ?? sqlError.message ?? String(error);
  return sqlError.code ? `${sqlError.code}: ${message}` : message;
}

function failure(service: string, files: MigrationFile[], error: { migration: { name: string }; cause?: unknown }, applied: string[]): Error {
  const name = error.migration.name;
  const file = files.find((f) => f.name === name)?.path ?? name;
  const shown = path.isAbsolute(file) && !path.relative(process.cwd(), file).startsWith('..') ? path.relative(process.cwd(), file) : file;
  const cause = error.cause instanceof Error ? error.cause.message : String(error.cause);
  return new MigrationFailed(service, shown, cause, applied, { cause: error.cause });
}
