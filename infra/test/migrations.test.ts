/**
 * The migration runner against the real MariaDB (127.0.0.1:3306, root): each test works in a
 * database of its own, dropped afterwards. From empty, twice, after a partial failure, and
 * `scripts/migrate.ts` (what `make migrate` runs) end to end.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureDatabase, MigrationFailed, runMigrations } from '@switchyard/infra';
import { REPO_ROOT } from '../../test/support/processes.js';

const SERVER = 'mysql://root@127.0.0.1:3306';
const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

let counter = 0;
/** A database name no other test or run uses; dropped after the test. */
function throwawayDatabase(): { name: string; url: string } {
  counter += 1;
  const name = `switchyard_mig_${process.pid}_${Date.now().toString(36)}_${counter}`;
  cleanups.push(() => query(SERVER, `DROP DATABASE IF EXISTS \`${name}\``));
  return { name, url: `${SERVER}/${name}` };
}

async function query<T = Record<string, unknown>>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const connection = await mysql.createConnection({ uri: url });
  try {
    const [rows] = await connection.query(sql, values);
    return rows as T[];
  } finally {
    await connection.end();
  }
}

/** A folder of migration files; `files` maps a file name to its SQL. */
async function migrationFolder(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'switchyard-migrations-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  for (const [name, sql] of Object.entries(files)) await writeFile(path.join(dir, name), sql);
  return dir;
}

const tables = async (url: string) =>
  (await query<{ name: string }>(url, 'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY 1')).map(
    (r) => r.name,
  );
const recorded = async (url: string, service: string) =>
  (await query<{ name: string }>(url, 'SELECT name FROM schema_migrations WHERE service = ? ORDER BY name', [service])).map((r) => r.name);

const GOOD = {
  '0001_create_people.sql': `-- people; the semicolon in this comment does not split anything
    CREATE TABLE people (id INT PRIMARY KEY, last_name VARCHAR(100) NOT NULL, note VARCHAR(100) NOT NULL DEFAULT 'a;b')`,
  '0002_index_people_last_name.sql': 'CREATE INDEX people_last_name ON people (last_name, id);',
  '0003_seed_people.sql': "INSERT INTO people (id, last_name) VALUES (1, 'Lovelace');\nINSERT INTO people (id, last_name) VALUES (2, 'Hopper');\n",
};

describe('runMigrations', () => {
  it('applies every file in order on an empty database, then nothing the second time', async () => {
    const db = throwawayDatabase();
    await ensureDatabase(db.url);
    const dir = await migrationFolder(GOOD);
    const lines: string[] = [];

    const first = await runMigrations({ mysqlUrl: db.url, service: 'people', dir, logger: { info: (l) => lines.push(l) } });
    expect(first.applied).toEqual(Object.keys(GOOD));
    expect(lines).toEqual(Object.keys(GOOD).map((name) => `people: applied ${name}`));
    expect(await tables(db.url)).toEqual(['people', 'schema_migrations']);
    expect(await recorded(db.url, 'people')).toEqual(Object.keys(GOOD));
    const indexes = await query<{ name: string }>(db.url, "SELECT DISTINCT index_name AS name FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = 'people' ORDER BY 1");
    expect(indexes.map((i) => i.name).sort()).toEqual(['PRIMARY', 'people_last_name']);

    const second = await runMigrations({ mysqlUrl: db.url, service: 'people', dir });
    expect(second).toEqual({ service: 'people', applied: [], total: 3 });
    // The seed ran once: a second INSERT of id 1 would have failed the run anyway, but the rows say it.
    expect(await query(db.url, 'SELECT id, last_name FROM people ORDER BY id')).toEqual([
      { id: 1, last_name: 'Lovelace' },
      { id: 2, last_name: 'Hopper' },
    ]);
  });

  it('applies only the files added since the last run', async () => {
    const db = throwawayDatabase();
    await ensureDatabase(db.url);
    const dir = await migrationFolder({ '0001_create_people.sql': GOOD['0001_create_people.sql'] });
    await runMigrations({ mysqlUrl: db.url, service: 'people', dir });
    await writeFile(path.join(dir, '0002_seed.sql'), "INSERT INTO people (id, last_name) VALUES (7, 'Noether')");
    const again = await runMigrations({ mysqlUrl: db.url, service: 'people', dir });
    expect(again.applied).toEqual(['0002_seed.sql']);
  });

  it('stops at a failing file naming it and the SQL error; earlier files stay recorded, later ones do not run; the fixed file completes the run', async () => {
    const db = throwawayDatabase();
    await ensureDatabase(db.url);
    const dir = await migrationFolder({
      '0001_create_people.sql': GOOD['0001_create_people.sql'],
      '0002_add_city.sql': 'ALTER TABLE people ADD COLUMN city VARCHAR(100) NOT NULL DEFAULT', // syntax error
      '0003_create_posts.sql': 'CREATE TABLE posts (id INT PRIMARY KEY)',
    });

    const error = await runMigrations({ mysqlUrl: db.url, service: 'people', dir }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MigrationFailed);
    const failed = error as MigrationFailed;
    expect(failed.file).toContain('0002_add_city.sql');
    expect(failed.message).toMatch(/^migration .*0002_add_city\.sql \(people\) failed: ER_PARSE_ERROR: .*ALTER TABLE people ADD COLUMN city/);
    expect(failed.message).toContain('every later file were not applied');
    expect(failed.appliedBefore).toEqual(['0001_create_people.sql']);
    expect(await recorded(db.url, 'people')).toEqual(['0001_create_people.sql']);
    expect(await tables(db.url)).toEqual(['people', 'schema_migrations']);

    await writeFile(path.join(dir, '0002_add_city.sql'), "ALTER TABLE people ADD COLUMN city VARCHAR(100) NOT NULL DEFAULT ''");
    const resumed = await runMigrations({ mysqlUrl: db.url, service: 'people', dir });
    expect(resumed.applied).toEqual(['0002_add_city.sql', '0003_create_posts.sql']);
    expect(await tables(db.url)).toEqual(['people', 'posts', 'schema_migrations']);
  });

  it('runs a DML-only file in one transaction with its record: a failing statement leaves no row behind', async () => {
    const db = throwawayDatabase();
    await ensureDatabase(db.url);
    const dir = await migrationFolder({
      '0001_create_people.sql': GOOD['0001_create_people.sql'],
      // The second insert repeats the primary key: the first must be rolled back with it.
      '0002_seed.sql': "INSERT INTO people (id, last_name) VALUES (1, 'Lovelace');\nINSERT INTO people (id, last_name) VALUES (1, 'Again');",
    });
    await expect(runMigrations({ mysqlUrl: db.url, service: 'people', dir })).rejects.toThrow(
      /0002_seed\.sql \(people\) failed: ER_DUP_ENTRY: .*statement 2 of 2/,
    );
    expect(await query(db.url, 'SELECT * FROM people')).toEqual([]);
    expect(await recorded(db.url, 'people')).toEqual(['0001_create_people.sql']);
  });

  it('refuses a file that mixes a DDL statement with others, before running any of it', async () => {
    const db = throwawayDatabase();
    await ensureDatabase(db.url);
    const dir = await migrationFolder({
      '0001_two_tables.sql': 'CREATE TABLE a (id INT PRIMARY KEY);\nCREATE TABLE b (id INT PRIMARY KEY);',
    });
    await expect(runMigrations({ mysqlUrl: db.url, service: 'people', dir })).rejects.toThrow(
      /0001_two_tables\.sql \(people\) failed: the file holds 2 statements, one of them DDL/,
    );
    expect(await tables(db.url)).toEqual(['schema_migrations']);
  });

  it('keeps each service to its own records in the shared table', async () => {
    const db = throwawayDatabase();
    await ensureDatabase(db.url);
    const auth = await migrationFolder({ '0001_create_users.sql': 'CREATE TABLE users (id INT PRIMARY KEY)' });
    const social = await migrationFolder({ '0001_create_posts.sql': 'CREATE TABLE posts (id INT PRIMARY KEY)' });
    await runMigrations({ mysqlUrl: db.url, service: 'auth', dir: auth });
    expect((await runMigrations({ mysqlUrl: db.url, service: 'social', dir: social })).applied).toEqual(['0001_create_posts.sql']);
    expect(await recorded(db.url, 'auth')).toEqual(['0001_create_users.sql']);
    expect(await recorded(db.url, 'social')).toEqual(['0001_create_posts.sql']);
  });

  it('lets two runs at once take turns: every file is applied exactly once', async () => {
    const db = throwawayDatabase();
    await ensureDatabase(db.url);
    const dir = await migrationFolder(GOOD);
    const [a, b] = await Promise.all([
      runMigrations({ mysqlUrl: db.url, service: 'people', dir }),
      runMigrations({ mysqlUrl: db.url, service: 'people', dir }),
    ]);
    expect([...a.applied, ...b.applied].sort()).toEqual(Object.keys(GOOD));
    expect(await recorded(db.url, 'people')).toEqual(Object.keys(GOOD));
  });
});

describe('scripts/migrate.ts (make migrate)', () => {
  async function tree(services: Record<string, Record<string, string>>): Promise<string> {
    const root = await mkdtemp(path.join(tmpdir(), 'switchyard-tree-'));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    // gateway has no migrations/ folder: it is skipped.
    await writeFile(path.join(root, 'package.json'), JSON.stringify({ workspaces: ['gateway', ...Object.keys(services)] }));
    for (const [service, files] of Object.entries(services)) {
      await mkdir(path.join(root, service, 'migrations'), { recursive: true });
      for (const [name, sql] of Object.entries(files)) await writeFile(path.join(root, service, 'migrations', name), sql);
    }
    return root;
  }

  function migrate(root: string, mysqlUrl: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'scripts/migrate.ts')], {
        cwd: REPO_ROOT,
        env: { ...process.env, MYSQL_URL: mysqlUrl, SWITCHYARD_ROOT: root },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  it('creates the missing database, applies every service folder, prints a line per file; twice changes nothing', async () => {
    const db = throwawayDatabase();
    const root = await tree({
      auth: { '0001_create_users.sql': 'CREATE TABLE users (id INT PRIMARY KEY)' },
      social: { '0001_create_posts.sql': 'CREATE TABLE posts (id INT PRIMARY KEY)', '0002_seed.sql': 'INSERT INTO posts VALUES (1)' },
    });

    const first = await migrate(root, db.url);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`[migrate] database '${db.name}' ready`);
    expect(first.stdout).toContain('[migrate] auth: applied 0001_create_users.sql');
    expect(first.stdout).toContain('[migrate] social: applied 0001_create_posts.sql');
    expect(first.stdout).toContain('[migrate] social: applied 0002_seed.sql');
    expect(first.stdout).toMatch(/done in \d+ ms: 3 applied, 0 already applied \(services with migrations: auth, social\)/);

    const second = await migrate(root, db.url);
    expect(second.code).toBe(0);
    expect(second.stdout).not.toContain('applied 0');
    expect(second.stdout).toMatch(/0 applied, 3 already applied/);
    expect(await query(db.url, 'SELECT id FROM posts')).toEqual([{ id: 1 }]);
  });

  it('exits 1 with one line naming the failed file and the SQL error', async () => {
    const db = throwawayDatabase();
    const root = await tree({
      auth: { '0001_create_users.sql': 'CREATE TABLE users (id INT PRIMARY KEY)', '0002_broken.sql': 'CREATE TABLE oops (' },
      social: { '0001_create_posts.sql': 'CREATE TABLE posts (id INT PRIMARY KEY)' },
    });
    const run = await migrate(root, db.url);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('auth: applied 0001_create_users.sql');
    expect(run.stderr).toMatch(/^\[migrate\] error: migration .*auth\/migrations\/0002_broken\.sql \(auth\) failed: ER_PARSE_ERROR/);
    // The run stopped there: social's folder was not touched.
    expect(await tables(db.url)).toEqual(['schema_migrations', 'users']);
  });

  it('says which database it could not reach', async () => {
    const run = await migrate(await tree({}), 'mysql://root@127.0.0.1:1/whatever');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^\[migrate\] error: cannot create or reach the database at mysql:\/\/root@127\.0\.0\.1:1\/whatever: ECONNREFUSED/);
  });
});
