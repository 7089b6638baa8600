import type { Pool } from 'mysql2/promise';
import type { NameSearch, NewUser, UserStore } from '../domain/accounts.js';
import type { UserRecord } from '../domain/profiles.js';
import { execute, fromSqlTime, isDuplicateKey, likePrefix, selectRows, toSqlTime } from '@switchyard/infra';

interface UserRow {
  id: string;
  email: string;
  first_name: string;
  last_name: string;
  birthday: string;
  gender: string | null;
  city: string | null;
  interests: string | null;
  created_at: string;
}

const COLUMNS = 'id, email, first_name, last_name, birthday, gender, city, interests, created_at';

const toRecord = (row: UserRow): UserRecord => ({
  id: row.id,
  email: row.email,
  firstName: row.first_name,
  lastName: row.last_name,
  birthday: row.birthday,
  gender: row.gender,
  city: row.city,
  interests: row.interests,
  createdAt: fromSqlTime(row.created_at),
});

/**
 * The name searches walk one of two indexes, (last_name, first_name, id) or (first_name,
 * last_name, id): the LIKE 'prefix%' on the leading column is a range scan, the ORDER BY follows
 * the index (no sort), and the page starts after the cursor's row by keyset, not OFFSET.
 */
const ORDERS = {
  last: { lead: 'last_name', second: 'first_name' },
  first: { lead: 'first_name', second: 'last_name' },
} as const;

export class MysqlUserStore implements UserStore {
  constructor(private readonly pool: Pool) {}

  async insert(user: NewUser): Promise<'created' | 'email_taken'> {
    const now = toSqlTime(user.createdAt);
    try {
      await execute(
        this.pool,
        `INSERT INTO users (id, email, password_hash, first_name, last_name, birthday, gender, city, interests, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [user.id, user.email, user.passwordHash, user.firstName, user.lastName, user.birthday, user.gender, user.city, user.interests, now, now],
      );
      return 'created';
    } catch (error) {
      // The unique index on email decides, so two sign-ups racing for one email cannot both win.
      if (isDuplicateKey(error)) return 'email_taken';
      throw error;
    }
  }

  async credentials(email: string): Promise<{ id: string; passwordHash: string } | undefined> {
    const [row] = await selectRows<{ id: string; password_hash: string }>(this.pool, 'SELECT id, password_hash FROM users WHERE email = ?', [email]);
    return row && { id: row.id, passwordHash: row.password_hash };
  }

  async replacePasswordHash(id: string, passwordHash: string, now: number): Promise<void> {
    await execute(this.pool, 'UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?', [passwordHash, toSqlTime(now), id]);
  }

  async byId(id: string): Promise<UserRecord | undefined> {
    const [row] = await selectRows<UserRow>(this.pool, `SELECT ${COLUMNS} FROM users WHERE id = ?`, [id]);
    return row && toRecord(row);
  }

  async byIds(ids: readonly string[]): Promise<UserRecord[]> {
    if (ids.length === 0) return [];
    const rows = await selectRows<UserRow>(this.pool, `SELECT ${COLUMNS} FROM users WHERE id IN (?)`, [ids]);
    return rows.map(toRecord);
  }

  async search(search: NameSearch): Promise<UserRecord[] | 'unknown_anchor'> {
    let anchor: SearchAnchor | undefined;
    if (search.afterId !== undefined) {
      const { lead, second } = ORDERS[search.order];
      [anchor] = await selectRows<SearchAnchor>(this.pool, `SELECT ${lead} AS lead, ${second} AS second, id FROM users WHERE id = ?`, [search.afterId]);
      if (!anchor) return 'unknown_anchor';
    }
    const { sql, values } = nameSearchStatement(search, anchor);
    return (await selectRows<UserRow>(this.pool, sql, values)).map(toRecord);
  }
}

/** The names and id of the row a page starts after, in the search's order. */
export interface SearchAnchor {
  lead: string;
  second: string;
  id: string;
}

/** The SELECT of one search page (exported so a test can EXPLAIN exactly what runs). */
export function nameSearchStatement(search: NameSearch, anchor?: SearchAnchor): { sql: string; values: unknown[] } {
  const { lead, second } = ORDERS[search.order];
  const [leadPrefix, secondPrefix] = search.order === 'last' ? [search.last, search.first] : [search.first, search.last];
  const where = [`${lead} LIKE ? ESCAPE '!'`];
  const values: unknown[] = [likePrefix(leadPrefix)];
  if (secondPrefix) {
    where.push(`${second} LIKE ? ESCAPE '!'`);
    values.push(likePrefix(secondPrefix));
  }
  if (anchor) {
    // (lead, second, id) > the anchor's, spelled out: the same on MySQL and MariaDB.
    where.push(`(${lead} > ? OR (${lead} = ? AND (${second} > ? OR (${second} = ? AND id > ?))))`);
    values.push(anchor.lead, anchor.lead, anchor.second, anchor.second, anchor.id);
  }
  values.push(search.limit);
  return { sql: `SELECT ${COLUMNS} FROM users WHERE ${where.join(' AND ')} ORDER BY ${lead}, ${second}, id LIMIT ?`, values };
}
