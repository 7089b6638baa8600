import type { Pool } from 'mysql2/promise';
import type { Message } from '../api.js';
import { DuplicateClientMessageId, type MessageStore } from '../domain/stores.js';
import { execute, inTransaction, isDuplicateKey, selectRows } from '@switchyard/infra';
import { MESSAGE_COLUMNS, sqlId, toMessage, type MessageRow } from './rows.js';

/** The messages table, and the read markers of chat_members. */
export class MysqlMessageStore implements MessageStore {
  constructor(private readonly db: Pool) {}

  async insert(chatId: string, authorId: string, text: string, clientMessageId: string): Promise<Message> {
    try {
      return await inTransaction(this.db, async (connection) => {
        // The chat's row lock orders its sends: ids are taken and committed in the same order, so
        // a reader of one chat never sees id 12 committed before id 11 appears. The time is read
        // by the INSERT itself, after the lock is held, so it follows the same order.
        await selectRows(connection, 'SELECT id FROM chats WHERE id = ? FOR UPDATE', [sqlId(chatId)]);
        const inserted = await execute(
          connection,
          'INSERT INTO messages (chat_id, author_id, client_message_id, text, created_at) VALUES (?, ?, ?, ?, UTC_TIMESTAMP(3))',
          [sqlId(chatId), authorId, clientMessageId, text],
        );
        const id = sqlId(String(inserted.insertId));
        await execute(
          connection,
          `UPDATE chats c JOIN messages m ON m.id = ?
            SET c.last_message_id = m.id, c.last_activity_at = m.created_at WHERE c.id = ?`,
          [id, sqlId(chatId)],
        );
        const [row] = await selectRows<MessageRow>(connection, `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.id = ?`, [id]);
        return toMessage(row!);
      });
    } catch (error) {
      if (isDuplicateKey(error)) throw new DuplicateClientMessageId('this author already used this clientMessageId');
      throw error;
    }
  }

  async byClientMessageId(authorId: string, clientMessageId: string): Promise<Message | undefined> {
    const [row] = await selectRows<MessageRow>(
      this.db,
      `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.author_id = ? AND m.client_message_id = ?`,
      [authorId, clientMessageId],
    );
    return row && toMessage(row);
  }

  async page(chatId: string, before: string | undefined, limit: number): Promise<Message[]> {
    const olderThan = before === undefined ? '' : 'AND m.id < ?';
    const values = before === undefined ? [sqlId(chatId), limit] : [sqlId(chatId), sqlId(before), limit];
    const rows = await selectRows<MessageRow>(
      this.db,
      `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.chat_id = ? ${olderThan} ORDER BY m.id DESC LIMIT ?`,
      values,
    );
    return rows.map(toMessage);
  }

  async markRead(chatId: string, userId: string, upTo: string): Promise<string | undefined> {
    // Past the chat's newest message, the marker stops there: messages sent later stay unread.
    const [chat] = await selectRows<{ marker: string | null }>(
      this.db,
      'SELECT CAST(LEAST(?, COALESCE(last_message_id, 0)) AS CHAR) AS marker FROM chats WHERE id = ?',
      [sqlId(upTo), sqlId(chatId)],
    );
    const marker = chat?.marker;
    if (!marker || marker === '0') return undefined;
    // Conditional: a marker never moves backwards, whatever order concurrent calls land in.
    const moved = await execute(
      this.db,
      'UPDATE chat_members SET last_read_message_id = ? WHERE chat_id = ? AND user_id = ? AND last_read_message_id < ?',
      [sqlId(marker), sqlId(chatId), userId, sqlId(marker)],
    );
    return moved.affectedRows === 1 ? marker : undefined;
  }
}
