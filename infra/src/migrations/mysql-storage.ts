import type { Connection } from 'mysql2/promise';
import type { UmzugStorage } from 'umzug';

export const MIGRATIONS_TABLE = 'schema_migrations';

/**
 * umzug's record of applied migrations, one row per (service, file) in `schema_migrations`:
 * every service's migrations share the table, each service sees only its own rows.
 */
export class MysqlMigrationStorage implements UmzugStorage {
  constructor(
    private readonly connection: Connection,
    private readonly service: string,
  ) {}

  /** Idempotent; the only statement of the runner that is not in a migration file. */
  async ensureTable(): Promise<void> {
    await this.connection.query(
      `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
        service VARCHAR(64) NOT NULL,
        name VARCHAR(255) NOT NULL,
        applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (service, name)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
    );
  }

  async executed(): Promise<string[]> {
    const [rows] = await this.connection.query(`SELECT name FROM ${MIGRATIONS_TABLE} WHERE service = ? ORDER BY name`, [
      this.service,
    ]);
    return (rows as Array<{ name: string }>).map((row) => row.name);
  }

  /**
   * INSERT IGNORE: a DML migration records itself inside its own transaction (applied and
   * recorded together, or neither), and umzug then logs it once more.
   */
  async logMigration({ name }: { name: string }): Promise<void> {
    await this.connection.query(`INSERT IGNORE INTO ${MIGRATIONS_TABLE} (service, name) VALUES (?, ?)`, [this.service, name]);
  }

  async unlogMigration({ name }: { name: string }): Promise<void> {
    await this.connection.query(`DELETE FROM ${MIGRATIONS_TABLE} WHERE service = ? AND name = ?`, [this.service, name]);
  }
}
