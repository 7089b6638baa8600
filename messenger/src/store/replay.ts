import type { Pool } from 'mysql2/promise';
import type { Missed, ReplayStore } from '../domain/live-feed.js';
import { selectRows } from '@switchyard/infra';
import { MESSAGE_COLUMNS, sqlId, toMessage, type MessageRow } from './rows.js';

/**
 * How far before the `since` message a resume looks again. Ids are taken at INSERT, before the
 * commit: with concurrent senders (in different chats), id 12 can be visible while id 11 is not
 * yet, and a client that saw 12 would resume past 11 for good. Re-sending what was stored shortly
 * before `since` covers that (clients dedupe by id); 2 s is far longer than a send's transaction.
 */
export const OVERLAP_SECONDS = 2;

/** Reads missed messages for a resumed live socket. */
export class MysqlReplayStore implements ReplayStore {
  constructor(private readonly db: Pool) {}

  async missedSince(userId: string, since: string, limit: number): Promise<Missed> {
    // Each range is served per chat of the user by an index of messages (messages_chat_id for
    // ids, messages_chat_created for times). A `since` that is no message has no time: no overlap.
    const select = (condition: string, values: unknown[], order: 'ASC' | 'DESC', rows: number) =>
      selectRows<MessageRow>(
        this.db,
        `SELECT ${MESSAGE_COLUMNS} FROM chat_members cm JOIN messages m ON m.chat_id = cm.chat_id
          WHERE cm.user_id = ? AND ${condition} ORDER BY m.id ${order} LIMIT ?`,
        [userId, ...values, rows],
      );
    const [overlap, after] = await Promise.all([
      select(
        `m.id < ? AND m.created_at >= (SELECT s.created_at - INTERVAL ${OVERLAP_SECONDS} SECOND FROM messages s WHERE s.id = ?)`,
        [sqlId(since), sqlId(since)],
        // The newest ones: an inversion is right below `since`.
        'DESC',
        limit,
      ),
      select('m.id > ?', [sqlId(since)], 'ASC', limit + 1),
    ]);
    // Every overlap id is < since < every later id: the concatenation is in id order.
    return { overlap: overlap.reverse().map(toMessage), after: after.slice(0, limit).map(toMessage), truncated: after.length > limit };
  }

  async latestMessageId(userId: string): Promise<string | null> {
    const [row] = await selectRows<{ latest: string | null }>(
      this.db,
      'SELECT CAST(MAX(c.last_message_id) AS CHAR) AS latest FROM chat_members cm JOIN chats c ON c.id = cm.chat_id WHERE cm.user_id = ?',
      [userId],
    );
    return row?.latest ?? null;
  }
}
