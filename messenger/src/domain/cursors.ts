import { invalidCursor } from './errors.js';

/**
 * Page cursors: which list they belong to and the key of the page's last item, base64url-encoded.
 * Opaque to clients, and checked on the way back: a cursor of another list, or anything this
 * service did not make, is refused (invalid_cursor) rather than silently restarting the list.
 * They hold only numbers, never text to be put in a query, so a crafted cursor can do no harm.
 */
const ID = '[1-9][0-9]{0,18}';
const CHAT_KEY = new RegExp(`^(0|[1-9][0-9]{0,15}):(${ID})$`);
const MESSAGE_KEY = new RegExp(`^${ID}$`);
const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** 2^63 - 1, as the API's id schemas bound ids (equal lengths of digits compare as text). */
const MAX_ID = '9223372036854775807';
const withinBigint = (id: string) => id.length < MAX_ID.length || id <= MAX_ID;

function encode(tag: string, key: string): string {
  return Buffer.from(`${tag}:${key}`, 'utf8').toString('base64url');
}

function decode(tag: string, cursor: string, valid: RegExp): string {
  const text = BASE64URL.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const separator = text.indexOf(':');
  const key = text.slice(separator + 1);
  // Re-encoding must give the cursor back: base64url has several spellings of the same bytes
  // (trailing bits), and accepting only the canonical one keeps cursors one-to-one with keys.
  if (separator < 0 || text.slice(0, separator) !== tag || !valid.test(key) || encode(tag, key) !== cursor) {
    throw invalidCursor();
  }
  return key;
}

/** Where a page of my chats stopped: the last chat's activity time (epoch ms) and id. */
export interface ChatPosition {
  activityAt: number;
  chatId: string;
}

/** Chats are listed by last activity, newest first, ties by id: the cursor holds both. */
export const encodeChatCursor = (last: ChatPosition) => encode('c', `${last.activityAt}:${last.chatId}`);

export function decodeChatCursor(cursor: string): ChatPosition {
  const [, activityAt, chatId] = CHAT_KEY.exec(decode('c', cursor, CHAT_KEY))!;
  const at = Number(activityAt);
  // A time no DATETIME holds (past year 9999) is not one this service wrote.
  if (!Number.isSafeInteger(at) || at > Date.UTC(9999, 11, 31) || !withinBigint(chatId!)) throw invalidCursor();
  return { activityAt: at, chatId: chatId! };
}

/** Older than this message id (messages are newest first). */
export const encodeMessageCursor = (lastMessageId: string) => encode('m', lastMessageId);
export function decodeMessageCursor(cursor: string): string {
  const id = decode('m', cursor, MESSAGE_KEY);
  if (!withinBigint(id)) throw invalidCursor();
  return id;
}
