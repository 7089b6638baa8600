import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** `NNNN_description.sql`: the number orders the files, the description says what they do. */
const FILE_NAME = /^(\d{4,})_[A-Za-z0-9_-]+\.sql$/;

export interface MigrationFile {
  /** The file name, which is also the migration's name in `schema_migrations`. */
  name: string;
  path: string;
  read(): Promise<string>;
}

/** A folder's migration files, ordered by name; refuses misnamed `.sql` files and reused numbers. */
export async function listMigrationFiles(dir: string): Promise<MigrationFile[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    throw new Error(`cannot read the migrations folder ${dir}: ${(error as Error).message}`);
  }
  const names = entries.filter((entry) => entry.toLowerCase().endsWith('.sql'));
  const numbers = new Map<number, string>();
  for (const name of names) {
    const match = FILE_NAME.exec(name);
    if (!match) {
      throw new Error(`${path.join(dir, name)}: a migration file is named NNNN_description.sql (digits, underscore, letters/digits/_/-)`);
    }
    const number = Number(match[1]);
    const other = numbers.get(number);
    if (other) {
      throw new Error(`${path.join(dir, name)} and ${other} share the number ${match[1]}: each migration needs its own`);
    }
    numbers.set(number, name);
  }
  // By number, not by text: 10000_x comes after 9999_y even though "1" sorts before "9".
  const ordered = [...numbers.entries()].sort(([a], [b]) => a - b).map(([, name]) => name);
  return ordered.map((name) => {
    const file = path.join(dir, name);
    return { name, path: file, read: () => readFile(file, 'utf8') };
  });
}
