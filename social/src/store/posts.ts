import type { Pool } from 'mysql2/promise';
import type { Post } from '../api.js';
import type { PostStore } from '../domain/feed.js';
import { execute, fromSqlTime, selectRows, toSqlTime } from '@switchyard/infra';

interface PostRow {
  post_id: string;
  author_id: string;
  text: string;
  created_at: string;
}

// Ids are read as text and sent as BigInt (a number literal in the SQL): a JS number loses
// precision past 2^53, and a quoted id would make MySQL compare the BIGINT as a double. The text
// gets its own name: aliased `id`, it would take the column's place in ORDER BY id and sort as
// text ('9' after '10').
const sqlId = (id: string): bigint => BigInt(id);
const COLUMNS = 'CAST(id AS CHAR) AS post_id, author_id, text, created_at';

const toPost = (row: PostRow): Post => ({
  id: row.post_id,
  authorId: row.author_id,
  text: row.text,
  createdAt: new Date(fromSqlTime(row.created_at)).toISOString(),
});

export class MysqlPostStore implements PostStore {
  constructor(private readonly db: Pool) {}

  async insert(authorId: string, text: string, createdAt: number): Promise<string> {
    const result = await execute(this.db, 'INSERT INTO posts (author_id, text, created_at) VALUES (?, ?, ?)', [authorId, text, toSqlTime(createdAt)]);
    return String(result.insertId);
  }

  async authorOf(postId: string): Promise<string | undefined> {
    const [row] = await selectRows<{ author_id: string }>(this.db, 'SELECT author_id FROM posts WHERE id = ?', [sqlId(postId)]);
    return row?.author_id;
  }

  async delete(postId: string, authorId: string): Promise<boolean> {
    const result = await execute(this.db, 'DELETE FROM posts WHERE id = ? AND author_id = ?', [sqlId(postId), authorId]);
    return result.affectedRows === 1;
  }

  async byIds(ids: readonly string[]): Promise<Post[]> {
    if (ids.length === 0) return [];
    const rows = await selectRows<PostRow>(this.db, `SELECT ${COLUMNS} FROM posts WHERE id IN (?)`, [ids.map(sqlId)]);
    return rows.map(toPost);
  }

  async newestBy(authorIds: readonly string[], before: string | undefined, limit: number): Promise<Post[]> {
    if (authorIds.length === 0) return [];
    const { sql, values } = newestQuery(authorIds, before, limit);
    return (await selectRows<PostRow>(this.db, sql, values)).map(toPost);
  }
}

/**
 * The newest posts of these authors older than `before`: served by posts_author_id (author_id,
 * id), one range per author, then the newest `limit` of those; the id bound keeps every page a
 * keyset read, however deep. Exported for the test that EXPLAINs it.
 */
export function newestQuery(authorIds: readonly string[], before: string | undefined, limit: number) {
  const olderThan = before === undefined ? '' : 'AND id < ?';
  return {
    sql: `SELECT ${COLUMNS} FROM posts WHERE author_id IN (?) ${olderThan} ORDER BY id DESC LIMIT ?`,
    values: before === undefined ? [authorIds, limit] : [authorIds, sqlId(before), limit],
  };
}
