import { invalidCursor } from './errors.js';

/**
 * Page cursors: which list they belong to and the key of the page's last item, base64url-encoded.
 * Opaque to clients, and checked on the way back: a cursor of another list, or anything this
 * service did not make, is refused (invalid_cursor) rather than silently restarting the list.
 * They hold only an id, never text to be put in a query, so a crafted cursor can do no harm.
 */
export type CursorList = 'friends' | 'requests' | 'feed';

const TAGS: Record<CursorList, string> = { friends: 'f', requests: 'r', feed: 'p' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const POST_ID = /^[1-9][0-9]{0,18}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

function encode(list: CursorList, key: string): string {
  return Buffer.from(`${TAGS[list]}:${key}`, 'utf8').toString('base64url');
}

function decode(list: CursorList, cursor: string, valid: RegExp): string {
  const text = BASE64URL.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const separator = text.indexOf(':');
  const key = text.slice(separator + 1);
  // Re-encoding must give the cursor back: base64url has several spellings of the same bytes
  // (trailing bits), and accepting only the canonical one keeps cursors one-to-one with keys.
  if (separator < 0 || text.slice(0, separator) !== TAGS[list] || !valid.test(key) || encode(list, key) !== cursor) {
    throw invalidCursor();
  }
  return key;
}

/** After this user id (friends and incoming requests are ordered by the other person's id). */
export const encodeUserCursor = (list: 'friends' | 'requests', lastUserId: string) => encode(list, lastUserId);
export const decodeUserCursor = (list: 'friends' | 'requests', cursor: string) => decode(list, cursor, UUID);

/** Older than this post id (the feed is newest first). */
export const encodeFeedCursor = (lastPostId: string) => encode('feed', lastPostId);
export const decodeFeedCursor = (cursor: string) => decode('feed', cursor, POST_ID);
