import type { Post } from '../api.js';
import { encodeFeedCursor } from './cursors.js';
import type { FeedEntry } from './feed-cache.js';
import { isOlder } from './post-ids.js';

/** A feed entry on its way to a page, with its post when the source already had it (the database). */
export type Candidate = FeedEntry & { post?: Post };

export const entryOf = (post: Post): Candidate => ({ postId: post.id, authorId: post.authorId, post });

/** Of a newest-first list, the first `want` entries older than `before` (all of them when undefined). */
export function olderThan<T extends FeedEntry>(entries: readonly T[], before: string | undefined, want: number): T[] {
  const found: T[] = [];
  for (const entry of entries) {
    if (found.length === want) break;
    if (before === undefined || isOlder(entry.postId, before)) found.push(entry);
  }
  return found;
}

/**
 * Appends `more` (older entries from another source) to `first`, keeping newest-first order and
 * dropping any id already present: the cache and the database may briefly both hold one post.
 */
export function concatOlder<T extends FeedEntry>(first: readonly T[], more: readonly T[]): T[] {
  const seen = new Set(first.map((entry) => entry.postId));
  const last = first.at(-1)?.postId;
  return [...first, ...more.filter((entry) => !seen.has(entry.postId) && (last === undefined || isOlder(entry.postId, last)))];
}

/**
 * One page out of `candidates`, which were fetched with one more than `limit` to tell whether
 * another page follows. The cursor is the id of the page's last entry: the next page starts below
 * it, so posts published meanwhile never shift a page (no duplicates, no gaps, unlike offsets).
 */
export function pageOf<T extends FeedEntry>(candidates: readonly T[], limit: number): { page: T[]; nextCursor: string | null } {
  const page = candidates.slice(0, limit);
  const nextCursor = candidates.length > limit ? encodeFeedCursor(page.at(-1)!.postId) : null;
  return { page, nextCursor };
}
