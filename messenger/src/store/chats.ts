import type { Pool } from 'mysql2/promise';
import type { ChatPosition } from '../domain/cursors.js';
import type { ChatStore, ChatView } from '../domain/stores.js';
import { execute, fromSqlTime, inTransaction, isDuplicateKey, selectRows, toSqlTime } from '@switchyard/infra';
import { MESSAGE_COLUMNS, sqlId, toMessage, type MessageRow } from './rows.js';

interface ChatRow {
  chat_id: string;
  kind: 'dialog' | 'group';
  created_at: string;
  last_activity_at: string;
  last_message_id: string | null;
  last_read_message_id: string;
}

const CHAT_COLUMNS = `CAST(c.id AS CHAR) AS chat_id, c.kind, c.created_at, c.last_activity_at,
  CAST(c.last_message_id AS CHAR) AS last_message_id, CAST(me.last_read_message_id AS CHAR) AS last_read_message_id`;

/**
 * The chats and chat_members tables. A chat is read with what its member needs in one list
 * entry: participants, the last message and the unread count, each one query for the whole page.
 */
export class MysqlChatStore implements ChatStore {
  constructor(private readonly db: Pool) {}

  async findDialog(key: string): Promise<string | undefined> {
    const [row] = await selectRows<{ chat_id: string }>(this.db, 'SELECT CAST(id AS CHAR) AS chat_id FROM chats WHERE dialog_key = ?', [key]);
    return row?.chat_id;
  }

  async createDialog(key: string, a: string, b: string): Promise<{ id: string; created: boolean }> {
    try {
      const id = await inTransaction(this.db, async (connection) => {
        const chat = await execute(
          connection,
          // The database's clock, as for messages: one clock for every instance.
          "INSERT INTO chats (kind, dialog_key, created_at, last_activity_at) VALUES ('dialog', ?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))",
          [key],
        );
        const chatId = String(chat.insertId);
        await execute(connection, 'INSERT INTO chat_members (chat_id, user_id, joined_at) VALUES (?, ?, UTC_TIMESTAMP(3)), (?, ?, UTC_TIMESTAMP(3))', [
          sqlId(chatId), a, sqlId(chatId), b,
        ]);
        return chatId;
      });
      return { id, created: true };
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      // The other side (or a concurrent call of ours) created it first; it is committed by now
      // (the unique-key wait ended with their commit).
      const existing = await this.findDialog(key);
      if (existing === undefined) throw error;
      return { id: existing, created: false };
    }
  }

  async view(chatId: string, userId: string): Promise<ChatView | undefined> {
    const rows = await selectRows<ChatRow>(
      this.db,
      `SELECT ${CHAT_COLUMNS} FROM chat_members me JOIN chats c ON c.id = me.chat_id WHERE me.chat_id = ? AND me.user_id = ?`,
      [sqlId(chatId), userId],
    );
    const [view] = await this.complete(rows, userId);
    return view;
  }

  async list(userId: string, after: ChatPosition | undefined, limit: number): Promise<ChatView[]> {
    const { sql, values } = chatListQuery(userId, after, limit);
    return this.complete(await selectRows<ChatRow>(this.db, sql, values), userId);
  }

  async members(chatId: string): Promise<string[]> {
    const rows = await selectRows<{ user_id: string }>(this.db, 'SELECT user_id FROM chat_members WHERE chat_id = ? ORDER BY user_id', [sqlId(chatId)]);
    return rows.map((row) => row.user_id);
  }

  /** The chats of these rows with their participants, last messages and unread counts (three queries for any number of chats). */
  private async complete(rows: ChatRow[], userId: string): Promise<ChatView[]> {
    if (rows.length === 0) return [];
    const chatIds = rows.map((row) => sqlId(row.chat_id));
    const lastIds = rows.flatMap((row) => (row.last_message_id === null ? [] : [sqlId(row.last_message_id)]));
    const [members, lastMessages, unread] = await Promise.all([
      selectRows<{ chat_id: string; user_id: string }>(
        this.db,
        'SELECT CAST(chat_id AS CHAR) AS chat_id, user_id FROM chat_members WHERE chat_id IN (?) ORDER BY chat_id, user_id',
        [chatIds],
      ),
      lastIds.length === 0 ? [] : selectRows<MessageRow>(this.db, `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.id IN (?)`, [lastIds]),
      selectRows<{ chat_id: string; unread: number | string }>(this.db, unreadQuery, [userId, chatIds]),
    ]);
    const participants = new Map<string, string[]>();
    for (const member of members) participants.set(member.chat_id, [...(participants.get(member.chat_id) ?? []), member.user_id]);
    const messages = new Map(lastMessages.map((row) => [row.message_chat_id, toMessage(row)]));
    const counts = new Map(unread.map((row) => [row.chat_id, Number(row.unread)]));
    return rows.map((row) => ({
      id: row.chat_id,
      kind: row.kind,
      participants: participants.get(row.chat_id) ?? [],
      createdAt: fromSqlTime(row.created_at),
      lastActivityAt: fromSqlTime(row.last_activity_at),
      lastMessage: messages.get(row.chat_id) ?? null,
      unread: counts.get(row.chat_id) ?? 0,
      lastReadMessageId: row.last_read_message_id === '0' ? null : row.last_read_message_id,
    }));
  }
}

/**
 * The others' messages after my read marker, per chat: a range of messages_chat_id (chat_id, id,
 * author_id) per chat, read from the index alone.
 */
const unreadQuery = `SELECT CAST(me.chat_id AS CHAR) AS chat_id, COUNT(m.id) AS unread
  FROM chat_members me
  JOIN messages m ON m.chat_id = me.chat_id AND m.id > me.last_read_message_id AND m.author_id <> me.user_id
  WHERE me.user_id = ? AND me.chat_id IN (?)
  GROUP BY me.chat_id`;

/**
 * My chats by last activity, newest first, ties by id, after a position (exclusive). A user's
 * chats are found through chat_members_user and sorted: a person is in hundreds of chats, not
 * millions. Exported for the test that runs it.
 */
export function chatListQuery(userId: string, after: ChatPosition | undefined, limit: number) {
  const position = after === undefined ? '' : 'AND (c.last_activity_at < ? OR (c.last_activity_at = ? AND c.id < ?))';
  const values: unknown[] = [userId];
  if (after !== undefined) {
    const at = toSqlTime(after.activityAt);
    values.push(at, at, sqlId(after.chatId));
  }
  values.push(limit);
  return {
    sql: `SELECT ${CHAT_COLUMNS} FROM chat_members me JOIN chats c ON c.id = me.chat_id
      WHERE me.user_id = ? ${position} ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ?`,
    values,
  };
}
