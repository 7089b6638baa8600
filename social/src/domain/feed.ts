import type { Post } from '../api.js';
import { decodeFeedCursor } from './cursors.js';
import type { CacheErrorReporter, FeedCache } from './feed-cache.js';
import { concatOlder, entryOf, olderThan, pageOf, type Candidate } from './feed-page.js';
import type { FriendshipStore, Page } from './friendships.js';

/** The posts table (store/posts.ts). */
export interface PostStore {
  /** The new post's id. */
  insert(authorId: string, text: string, createdAt: number): Promise<string>;
  authorOf(postId: string): Promise<string | undefined>;
  /** false when no such post of this author exists (any more). */
  delete(postId: string, authorId: string): Promise<boolean>;
  /** The posts that exist among `ids`, in any order. */
  byIds(ids: readonly string[]): Promise<Post[]>;
  /** The newest posts of these authors older than `before`, newest first. */
  newestBy(authorIds: readonly string[], before: string | undefined, limit: number): Promise<Post[]>;
}

export interface FeedOptions {
  /** How many entries a cached feed keeps; older pages come from the database. */
  cacheSize: number;
}

/**
 * My feed: my friends' posts, newest first, cursor-paged, and only ever the caller's own (the
 * routes pass the signed-in user; there is no way to name another).
 *
 * Reads come from the cached feed (Redis); a miss rebuilds it from the database. The cache is an
 * optimisation, never the truth: when Redis fails the page is read from the database instead, and
 * pages beyond what the cache keeps come from the database too.
 */
export class Feed {
  constructor(
    private readonly posts: PostStore,
    private readonly friendships: Pick<FriendshipStore, 'friendIds'>,
    private readonly cache: FeedCache,
    private readonly options: FeedOptions,
    private readonly onCacheError: CacheErrorReporter,
  ) {}

  async page(userId: string, cursor: string | undefined, limit: number): Promise<Page<Post>> {
    const before = cursor === undefined ? undefined : decodeFeedCursor(cursor);
    const { page, nextCursor } = pageOf(await this.candidates(userId, before, limit + 1), limit);
    return { items: await this.hydrate(page), nextCursor };
  }

  /** Up to `want` entries older than `before`, newest first. */
  private async candidates(userId: string, before: string | undefined, want: number): Promise<Candidate[]> {
    let slice: Awaited<ReturnType<FeedCache['read']>>;
    try {
      slice = await this.cache.read(userId, before, want);
    } catch (error) {
      this.onCacheError(error, 'read the cached feed (answered from the database)');
      const friends = await this.friendships.friendIds(userId);
      return this.fromDatabase(friends, before, want);
    }
    if (slice === 'miss') {
      const rebuilt = await this.rebuild(userId);
      const found = olderThan(rebuilt.posts, before, want);
      if (found.length === want || rebuilt.complete) return found;
      return concatOlder(found, await this.fromDatabase(rebuilt.friends, found.at(-1)?.postId ?? before, want - found.length));
    }
    if (slice.end !== 'partial') return slice.entries;
    // The cache keeps only the newest entries: the rest of this page is older than all of them.
    const friends = await this.friendships.friendIds(userId);
    const more = await this.fromDatabase(friends, slice.entries.at(-1)?.postId ?? before, want - slice.entries.length);
    return concatOlder<Candidate>(slice.entries, more);
  }

  /**
   * The feed from the database, stored in the cache unless a friendship change or a post raced
   * the rebuild (see FeedCache.replace): the version is read before the database, so any such
   * write after it makes the stored version differ. Answers the posts either way.
   */
  private async rebuild(userId: string): Promise<{ posts: Candidate[]; complete: boolean; friends: string[] }> {
    const version = await this.cache.version(userId).catch((error: unknown) => {
      this.onCacheError(error, 'read the feed version (the rebuilt feed is not cached)');
      return undefined;
    });
    const friends = await this.friendships.friendIds(userId);
    const found = friends.length === 0 ? [] : await this.posts.newestBy(friends, undefined, this.options.cacheSize + 1);
    const posts = found.slice(0, this.options.cacheSize).map(entryOf);
    const complete = found.length <= this.options.cacheSize;
    if (version !== undefined) {
      const entries = posts.map(({ postId, authorId }) => ({ postId, authorId }));
      await this.cache.replace(userId, version, { friends, entries, complete }).catch((error: unknown) => this.onCacheError(error, 'store the rebuilt feed'));
    }
    return { posts, complete, friends };
  }

  private async fromDatabase(friends: readonly string[], before: string | undefined, want: number): Promise<Candidate[]> {
    if (friends.length === 0 || want <= 0) return [];
    return (await this.posts.newestBy(friends, before, want)).map(entryOf);
  }

  /**
   * The posts of a page, in its order: bodies from the cache, the rest from the database (then
   * cached). An entry whose post is gone (deleted since it was listed) is left out.
   */
  private async hydrate(page: readonly Candidate[]): Promise<Post[]> {
    const known = new Map<string, Post>();
    for (const entry of page) if (entry.post) known.set(entry.postId, entry.post);
    let missing = page.filter((entry) => !known.has(entry.postId)).map((entry) => entry.postId);
    if (missing.length > 0) {
      const cached = await this.cache.posts(missing).catch((error: unknown) => {
        this.onCacheError(error, 'read cached posts');
        return new Map<string, Post>();
      });
      for (const [id, post] of cached) known.set(id, post);
      missing = missing.filter((id) => !known.has(id));
    }
    if (missing.length > 0) {
      const loaded = await this.posts.byIds(missing);
      for (const post of loaded) known.set(post.id, post);
      if (loaded.length > 0) await this.cache.rememberPosts(loaded).catch((error: unknown) => this.onCacheError(error, 'cache posts'));
    }
    return page.flatMap((entry) => {
      const post = known.get(entry.postId);
      // The author check guards against a stale or foreign body under the id.
      return post && post.authorId === entry.authorId ? [post] : [];
    });
  }
}
