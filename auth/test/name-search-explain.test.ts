/**
 * The name search is served by an index, not a table scan: EXPLAIN (real MariaDB) of exactly the
 * statements the store runs, on a table with enough people for the optimizer to choose.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nameSearchStatement } from '../src/store/users.js';
import { AuthTestStack } from './support/auth-stack.js';

interface PlanRow {
  table: string;
  type: string;
  key: string | null;
  Extra: string | null;
}

/** Deterministic letters, so every run seeds the same spread of names. */
function pseudoName(seed: number): string {
  let x = seed * 2654435761;
  let name = '';
  for (let i = 0; i < 7; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    name += String.fromCharCode(97 + (x % 26));
  }
  return name[0]!.toUpperCase() + name.slice(1);
}

describe('name search plans (EXPLAIN on MariaDB)', () => {
  const auth = new AuthTestStack();

  beforeAll(async () => {
    await auth.prepare();
    const rows = Array.from({ length: 2_000 }, (_, i) => [
      randomUUID(), `p${i}@explain.test`, 'x', pseudoName(i), pseudoName(i + 100_000), '1990-01-01', '2024-01-01 00:00:00.000', '2024-01-01 00:00:00.000',
    ]);
    await auth.db().query(
      'INSERT INTO users (id, email, password_hash, first_name, last_name, birthday, created_at, updated_at) VALUES ?',
      [rows],
    );
    await auth.db().query('ANALYZE TABLE users');
  }, 60_000);
  afterAll(() => auth.teardown());

  const explain = async (statement: { sql: string; values: unknown[] }): Promise<PlanRow> => {
    const [plan] = (await auth.db().query(`EXPLAIN ${statement.sql}`, statement.values)) as unknown as [PlanRow[]];
    expect(plan).toHaveLength(1);
    return plan[0]!;
  };
  const anchor = { lead: 'Kab', second: 'Mor', id: '00000000-0000-4000-8000-000000000000' };

  it.each([
    ['last-name prefix', { order: 'last', first: '', last: 'Ka', limit: 21 }, undefined, 'users_last_first'],
    ['last and first prefixes', { order: 'last', first: 'M', last: 'Kab', limit: 21 }, undefined, 'users_last_first'],
    ['last-name prefix, next page', { order: 'last', first: '', last: 'Ka', limit: 21 }, anchor, 'users_last_first'],
    ['first-name prefix', { order: 'first', first: 'Ka', last: '', limit: 21 }, undefined, 'users_first_last'],
    ['first-name prefix, next page', { order: 'first', first: 'Ka', last: '', limit: 21 }, anchor, 'users_first_last'],
  ] as const)('%s: a range over %s, no full scan, no sort', async (_name, search, after, index) => {
    const plan = await explain(nameSearchStatement(search, after));
    expect(plan.key).toBe(index);
    expect(['range', 'ref']).toContain(plan.type);
    expect(plan.Extra ?? '').not.toMatch(/filesort/i);
  });
});
