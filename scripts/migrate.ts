/**
 * make migrate: creates the database named in MYSQL_URL when it is missing, then applies every
 * service's pending migrations (`<service>/migrations/NNNN_description.sql`, services in the
 * order of the root package.json's workspaces) and exits: 0 when everything is applied, 1 with
 * one line naming the failed file and the database's error.
 *
 *   MYSQL_URL=mysql://root@127.0.0.1:3306/switchyard node --import tsx scripts/migrate.ts
 *
 * SWITCHYARD_ROOT points it at another tree (the tests run it on a folder of fixtures).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDatabase, MigrationFailed, runMigrations } from '@switchyard/infra/migrations';

const DEFAULT_URL = 'mysql://root@127.0.0.1:3306/switchyard';

function serviceFolders(root: string): Array<{ service: string; dir: string }> {
  const { workspaces = [] } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { workspaces?: string[] };
  return workspaces
    .map((workspace) => ({ service: path.basename(workspace), dir: path.join(root, workspace, 'migrations') }))
    .filter(({ dir }) => existsSync(dir));
}

/** user:password@host: the password never reaches the terminal. */
function redacted(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

async function main(): Promise<number> {
  const root = process.env.SWITCHYARD_ROOT ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const mysqlUrl = process.env.MYSQL_URL || DEFAULT_URL;
  const started = Date.now();
  const database = await ensureDatabase(mysqlUrl).catch((error: Error & { code?: string }) => {
    const hint = error.code === 'ECONNREFUSED' ? '; is MySQL/MariaDB running? (make infra-up starts the local one)' : '';
    throw new Error(`cannot create or reach the database at ${redacted(mysqlUrl)}: ${error.code ?? error.message}${error.code ? ` (${error.message})` : ''}${hint}`);
  });
  console.log(`[migrate] database '${database}' ready (${redacted(mysqlUrl)})`);
  const folders = serviceFolders(root);
  let applied = 0;
  let total = 0;
  for (const { service, dir } of folders) {
    const result = await runMigrations({
      mysqlUrl,
      service,
      dir,
      logger: { info: (line) => console.log(`[migrate] ${line}`) },
    });
    applied += result.applied.length;
    total += result.total;
  }
  const services = folders.map((f) => f.service).join(', ') || 'none';
  console.log(
    `[migrate] done in ${Date.now() - started} ms: ${applied} applied, ${total - applied} already applied ` +
      `(services with migrations: ${services})`,
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    // MigrationFailed already names the file and the database's error.
    const message = error instanceof MigrationFailed || error instanceof Error ? error.message : String(error);
    console.error(`[migrate] error: ${message}`);
    process.exit(1);
  },
);
