import type { Message } from '../api.js';
import { fromSqlTime } from '@switchyard/infra';

// Ids are read as text and sent as BigInt (a number literal in the SQL): a JS number loses
// precision past 2^53, and a quoted id would make MySQL compare the BIGINT as a double. The text
// gets its own name: aliased `id`, it would take the column's place in ORDER BY id and sort as
// text ('9' after '10').
export const sqlId = (id: string): bigint => BigInt(id);

/** The columns of a message, for toMessage (table alias `m`). */
export const MESSAGE_COLUMNS =
  'CAST(m.id AS CHAR) AS message_id, CAST(m.chat_id AS CHAR) AS message_chat_id, m.author_id, m.client_message_id, m.text, m.created_at AS message_created_at';

export interface MessageRow {
  message_id: string;
  message_chat_id: string;
  author_id: string;
  client_message_id: string;
  text: string;
  message_created_at: string;
}

export const toMessage = (row: MessageRow): Message => ({
  id: row.message_id,
  chatId: row.message_chat_id,
  authorId: row.author_id,
  text: row.text,
  clientMessageId: row.client_message_id,
  createdAt: new Date(fromSqlTime(row.message_created_at)).toISOString(),
});
