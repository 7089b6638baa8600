import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listMigrationFiles } from './migration-files.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function folder(names: string[]): Promise<string> {
  dir = await mkdtemp(path.join(tmpdir(), 'migration-files-'));
  for (const name of names) await writeFile(path.join(dir, name), 'SELECT 1');
  return dir;
}

describe('listMigrationFiles', () => {
  it('orders by number, ignoring files that are not .sql', async () => {
    const d = await folder(['0002_b.sql', 'README.md', '10000_late.sql', '0001_a.sql', '9999_c.sql']);
    expect((await listMigrationFiles(d)).map((f) => f.name)).toEqual(['0001_a.sql', '0002_b.sql', '9999_c.sql', '10000_late.sql']);
  });

  it('refuses a misnamed .sql file instead of skipping it', async () => {
    const d = await folder(['0001_a.sql', 'create users.sql']);
    await expect(listMigrationFiles(d)).rejects.toThrow(/create users\.sql: a migration file is named NNNN_description\.sql/);
  });

  it('refuses two files with one number', async () => {
    const d = await folder(['0001_a.sql', '0001_b.sql']);
    await expect(listMigrationFiles(d)).rejects.toThrow(/share the number 0001/);
  });

  it('names the folder it cannot read', async () => {
    await expect(listMigrationFiles('/nonexistent/migrations')).rejects.toThrow(/cannot read the migrations folder \/nonexistent\/migrations/);
  });
});
