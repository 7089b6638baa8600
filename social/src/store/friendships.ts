import type { Pool } from 'mysql2/promise';
import type { FriendshipStore } from '../domain/friendships.js';
import type { Pair, Relation } from '../domain/friendship-rules.js';
import { execute, fromSqlTime, isDuplicateKey, selectRows, toSqlTime } from '@switchyard/infra';

interface RelationRow {
  status: 'pending' | 'accepted';
  requested_by: string;
}

/**
 * The friendships table: one row per pair (user_low < user_high). "The other person" of a row is
 * user_high when I am user_low and the reverse, so every list is two index range reads (the
 * primary key from my low side, friendships_high_low from my high side) merged by id.
 */
export class MysqlFriendshipStore implements FriendshipStore {
  constructor(private readonly db: Pool) {}

  async relation(pair: Pair): Promise<Relation> {
    const [row] = await selectRows<RelationRow>(
      this.db,
      'SELECT status, requested_by FROM friendships WHERE user_low = ? AND user_high = ?',
      [pair.low, pair.high],
    );
    return row && { status: row.status, requestedBy: row.requested_by };
  }

  async createRequest(pair: Pair, requestedBy: string, at: number): Promise<boolean> {
    try {
      await execute(
        this.db,
        "INSERT INTO friendships (user_low, user_high, requested_by, status, created_at, updated_at) VALUES (?, ?, ?, 'pending', ?, ?)",
        [pair.low, pair.high, requestedBy, toSqlTime(at), toSqlTime(at)],
      );
      return true;
    } catch (error) {
      // The other person (or a second request of ours) wrote the pair first: the caller decides again.
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  }

  async accept(pair: Pair, requestedBy: string, at: number): Promise<boolean> {
    const result = await execute(
      this.db,
      "UPDATE friendships SET status = 'accepted', updated_at = ? WHERE user_low = ? AND user_high = ? AND status = 'pending' AND requested_by = ?",
      [toSqlTime(at), pair.low, pair.high, requestedBy],
    );
    return result.affectedRows === 1;
  }

  async delete(pair: Pair, expected: NonNullable<Relation>): Promise<boolean> {
    const result = await execute(
      this.db,
      'DELETE FROM friendships WHERE user_low = ? AND user_high = ? AND status = ? AND requested_by = ?',
      [pair.low, pair.high, expected.status, expected.requestedBy],
    );
    return result.affectedRows === 1;
  }

  async friends(userId: string, afterId: string | undefined, limit: number) {
    const rows = await this.others(listQuery('friends', userId, afterId, limit));
    return rows.map((row) => ({ userId: row.other_id, since: fromSqlTime(row.updated_at) }));
  }

  async incoming(userId: string, afterId: string | undefined, limit: number) {
    const rows = await this.others(listQuery('incoming', userId, afterId, limit));
    return rows.map((row) => ({ userId: row.other_id, at: fromSqlTime(row.created_at) }));
  }

  async friendIds(userId: string): Promise<string[]> {
    const rows = await selectRows<{ other_id: string }>(
      this.db,
      `SELECT user_high AS other_id FROM friendships WHERE user_low = ? AND status = 'accepted'
       UNION ALL
       SELECT user_low AS other_id FROM friendships WHERE user_high = ? AND status = 'accepted'`,
      [userId, userId],
    );
    return rows.map((row) => row.other_id);
  }

  private others(query: { sql: string; values: unknown[] }) {
    return selectRows<{ other_id: string; created_at: string; updated_at: string }>(this.db, query.sql, query.values);
  }
}

const LIST_CONDITIONS = {
  friends: { sql: "status = 'accepted'", values: () => [] as unknown[] },
  incoming: { sql: "status = 'pending' AND requested_by <> ?", values: (userId: string) => [userId] },
};

/**
 * The other people of my rows in a list, with ids after `afterId`, by id: each side of the pair
 * is a range read of its index in id order, limited, then the two are merged and limited again.
 * Exported for the test that EXPLAINs it.
 */
export function listQuery(list: keyof typeof LIST_CONDITIONS, userId: string, afterId: string | undefined, limit: number) {
  const condition = LIST_CONDITIONS[list];
  const after = afterId ?? '';
  const sql = `(SELECT user_high AS other_id, created_at, updated_at FROM friendships
      WHERE user_low = ? AND user_high > ? AND ${condition.sql} ORDER BY user_high LIMIT ?)
    UNION ALL
    (SELECT user_low AS other_id, created_at, updated_at FROM friendships
      WHERE user_high = ? AND user_low > ? AND ${condition.sql} ORDER BY user_low LIMIT ?)
    ORDER BY other_id LIMIT ?`;
  const side = [userId, after, ...condition.values(userId), limit];
  return { sql, values: [...side, ...side, limit] };
}
