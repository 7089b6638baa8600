import type { Post } from '../api.js';

/** A post as the feed lists it: its id and author (the author decides who may see it). */
export interface FeedEntry {
  postId: string;
  authorId: string;
}

/**
 * A slice of a cached feed: entries older than the cursor, newest first, written only by the
 * reader's current friends. `end` says why the slice stopped: `more` (it holds as many entries as
 * asked), `complete` (the feed has nothing older) or `partial` (the cache holds no older entries
 * but the database may: it keeps only the newest few hundred).
 */
export interface CachedSlice {
  entries: FeedEntry[];
  end: 'more' | 'complete' | 'partial';
}

/**
 * The feed cache (Redis, store/feed-cache.ts), as the domain uses it. Each user's cached feed is a
 * capped, newest-first list of entries plus the friend set it was built from, written whole by a
 * rebuild from the database. A version per user, bumped by every write that could race a rebuild
 * (a fan-out, a removal, an invalidation), lets a rebuild that read the database before that
 * write discard its now-stale result instead of storing it.
 */
export interface FeedCache {
  /** Up to `want` entries older than `before` (all when undefined), or 'miss' when not cached. */
  read(userId: string, before: string | undefined, want: number): Promise<CachedSlice | 'miss'>;
  /** The version to hand to `replace` after reading the database. */
  version(userId: string): Promise<string>;
  /**
   * Stores a rebuilt feed (`entries` newest first; `complete`: the database has nothing older)
   * and the friend set it came from, unless the version moved since `version` was read.
   */
  replace(userId: string, version: string, feed: { friends: readonly string[]; entries: readonly FeedEntry[]; complete: boolean }): Promise<boolean>;
  /** Drops these users' cached feeds (their friends changed): the next read rebuilds. */
  invalidate(userIds: readonly string[]): Promise<void>;
  /** Fan-out on write: adds the entry to each recipient's feed that is cached (only those). */
  addEntry(entry: FeedEntry, recipients: readonly string[]): Promise<void>;
  /** Takes the entry out of each recipient's cached feed. */
  removeEntry(entry: FeedEntry, recipients: readonly string[]): Promise<void>;
  /** Cached post bodies by id (missing ones are simply absent). */
  posts(ids: readonly string[]): Promise<Map<string, Post>>;
  rememberPosts(posts: readonly Post[]): Promise<void>;
  forgetPost(postId: string): Promise<void>;
}

/** Reports a cache write that failed after the database changed (the change stands; the cache's TTL bounds the staleness). */
export type CacheErrorReporter = (error: unknown, what: string) => void;
