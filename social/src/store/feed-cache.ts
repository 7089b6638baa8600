import type { ChainableCommander, Redis } from 'ioredis';
import { post as postShape, type Post } from '../api.js';
import type { CachedSlice, FeedCache, FeedEntry } from '../domain/feed-cache.js';
import { ADD_ENTRY, READ_FEED, REPLACE_FEED } from './feed-scripts.js';

export interface RedisFeedCacheOptions {
  /** Prefix of every key (tests give each run its own). */
  keyPrefix: string;
  /** Entries a cached feed keeps. */
  cacheSize: number;
  /**
   * Lifetime of a cached feed and of cached posts. A rebuild is cheap, and the TTL bounds how
   * long a cache write that failed after a database change can leave a feed stale.
   */
  ttlSeconds: number;
}

/** The scripts as commands (ioredis sends EVALSHA, and the script itself once if Redis lacks it). */
interface FeedCommands {
  socialReadFeed(feed: string, friends: string, before: string, want: number): Promise<string[]>;
  socialReplaceFeed(feed: string, friends: string, version: string, ...args: Array<string | number>): Promise<number>;
}
interface FeedPipelineCommands {
  socialAddEntry(feed: string, version: string, entry: string, postId: string, cap: number, versionTtl: number): ChainableCommander;
}

const entryText = (entry: FeedEntry) => `${entry.postId}:${entry.authorId}`;

function entryFrom(text: string): FeedEntry {
  const separator = text.indexOf(':');
  return { postId: text.slice(0, separator), authorId: text.slice(separator + 1) };
}

/**
 * The feed cache in Redis (see feed-scripts.ts for the layout). A user's keys share a hash tag, so
 * the scripts touching several of them stay valid on a Redis cluster.
 *
 * While the connection is not up, every operation fails at once (CacheOffline) instead of waiting
 * in the connection's offline queue through its reconnection attempts: the feed answers from
 * MySQL in the time MySQL takes, not after seconds of waiting for a cache it can do without.
 */
export class RedisFeedCache implements FeedCache {
  private readonly commands: FeedCommands;
  /** Outlives the feeds it guards, so a version never restarts while a rebuild could still compare with it. */
  private readonly versionTtlSeconds: number;

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisFeedCacheOptions,
  ) {
    redis.defineCommand('socialReadFeed', { numberOfKeys: 2, lua: READ_FEED, readOnly: true });
    redis.defineCommand('socialReplaceFeed', { numberOfKeys: 3, lua: REPLACE_FEED });
    redis.defineCommand('socialAddEntry', { numberOfKeys: 2, lua: ADD_ENTRY });
    this.commands = redis as unknown as FeedCommands;
    this.versionTtlSeconds = options.ttlSeconds * 2 + 60;
  }

  /** The keys of one user's cached feed. */
  keys(userId: string) {
    const base = `${this.options.keyPrefix}{user:${userId}}`;
    return { feed: `${base}:feed`, friends: `${base}:feed-friends`, version: `${base}:feed-version` };
  }

  private postKey(postId: string): string {
    return `${this.options.keyPrefix}post:${postId}`;
  }

  /** Throws CacheOffline unless the connection is up (see the class comment). */
  private online(): void {
    if (this.redis.status !== 'ready') throw new CacheOffline(this.redis.status);
  }

  async read(userId: string, before: string | undefined, want: number): Promise<CachedSlice | 'miss'> {
    this.online();
    const { feed, friends } = this.keys(userId);
    const [end, ...entries] = await this.commands.socialReadFeed(feed, friends, before ?? '', want);
    if (end === 'miss') return 'miss';
    return { end: end as CachedSlice['end'], entries: entries.map(entryFrom) };
  }

  async version(userId: string): Promise<string> {
    this.online();
    return (await this.redis.get(this.keys(userId).version)) ?? '';
  }

  async replace(
    userId: string,
    version: string,
    feed: { friends: readonly string[]; entries: readonly FeedEntry[]; complete: boolean },
  ): Promise<boolean> {
    this.online();
    const keys = this.keys(userId);
    const stored = await this.commands.socialReplaceFeed(
      keys.feed,
      keys.friends,
      keys.version,
      version,
      this.options.ttlSeconds,
      feed.complete ? '1' : '0',
      feed.friends.length,
      ...feed.friends,
      ...feed.entries.map(entryText),
    );
    return stored === 1;
  }

  async invalidate(userIds: readonly string[]): Promise<void> {
    this.online();
    const transaction = this.redis.multi();
    for (const userId of userIds) {
      const keys = this.keys(userId);
      transaction.incr(keys.version).expire(keys.version, this.versionTtlSeconds).del(keys.feed, keys.friends);
    }
    await execOrThrow(transaction);
  }

  async addEntry(entry: FeedEntry, recipients: readonly string[]): Promise<void> {
    if (recipients.length === 0) return;
    this.online();
    const pipeline = this.redis.pipeline();
    const commands = pipeline as unknown as FeedPipelineCommands;
    for (const userId of recipients) {
      const keys = this.keys(userId);
      commands.socialAddEntry(keys.feed, keys.version, entryText(entry), entry.postId, this.options.cacheSize, this.versionTtlSeconds);
    }
    await execOrThrow(pipeline);
  }

  async removeEntry(entry: FeedEntry, recipients: readonly string[]): Promise<void> {
    if (recipients.length === 0) return;
    this.online();
    const pipeline = this.redis.pipeline();
    for (const userId of recipients) {
      const keys = this.keys(userId);
      // The version bump makes a rebuild that read the database before the delete drop its result.
      pipeline.incr(keys.version).expire(keys.version, this.versionTtlSeconds).lrem(keys.feed, 0, entryText(entry));
    }
    await execOrThrow(pipeline);
  }

  async posts(ids: readonly string[]): Promise<Map<string, Post>> {
    const found = new Map<string, Post>();
    if (ids.length === 0) return found;
    this.online();
    const values = await this.redis.mget(...ids.map((id) => this.postKey(id)));
    values.forEach((value, index) => {
      if (value === null) return;
      // Anything unreadable counts as a miss: the database answers instead.
      const parsed = postShape.safeParse(safeJson(value));
      if (parsed.success && parsed.data.id === ids[index]) found.set(parsed.data.id, parsed.data);
    });
    return found;
  }

  async rememberPosts(posts: readonly Post[]): Promise<void> {
    if (posts.length === 0) return;
    this.online();
    const pipeline = this.redis.pipeline();
    for (const post of posts) pipeline.set(this.postKey(post.id), JSON.stringify(post), 'EX', this.options.ttlSeconds);
    await execOrThrow(pipeline);
  }

  async forgetPost(postId: string): Promise<void> {
    this.online();
    await this.redis.del(this.postKey(postId));
  }
}

/**
 * The cache's connection is down (reconnecting): reads go to the database at once. Its cause is
 * the error ioredis gives a command on a closed connection, so a write that must reach the cache
 * (an invalidation before a friendship change) answers 503 dependency_unavailable, as it did.
 */
export class CacheOffline extends Error {
  override name = 'CacheOffline';
  constructor(status: string) {
    super(`feed cache offline (redis connection ${status})`, { cause: new Error('Connection is closed.') });
  }
}

/** A pipeline's or transaction's first failed command as an error (exec() reports them per command). */
async function execOrThrow(batch: ChainableCommander): Promise<void> {
  const results = await batch.exec();
  if (results === null) throw new Error('redis transaction aborted');
  for (const [error] of results) if (error) throw error;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
