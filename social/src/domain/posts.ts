import type { Post } from '../api.js';
import { SocialError } from './errors.js';
import type { CacheErrorReporter, FeedCache, FeedEntry } from './feed-cache.js';
import type { PostStore } from './feed.js';
import type { FriendshipStore } from './friendships.js';
import type { FeedAnnouncer } from './live-feed.js';

const postNotFound = () => new SocialError('post_not_found', 'no such post of yours');

/**
 * Publishing and deleting posts, and keeping the cached feeds in step: fan-out on write into each
 * friend's cached feed (only feeds that are cached: the others are rebuilt when read), and a live
 * event to each friend's open feed sockets.
 */
export class Posts {
  constructor(
    private readonly store: PostStore,
    private readonly friendships: Pick<FriendshipStore, 'friendIds'>,
    private readonly cache: FeedCache,
    private readonly onCacheError: CacheErrorReporter,
    private readonly announcer: FeedAnnouncer,
    private readonly now: () => number = Date.now,
  ) {}

  /** `text` was validated by the API schema (non-blank, at most 500 characters). */
  async create(authorId: string, text: string): Promise<Post> {
    const createdAt = this.now();
    const id = await this.store.insert(authorId, text, createdAt);
    const post: Post = { id, authorId, text, createdAt: new Date(createdAt).toISOString() };
    // The post exists from here on: a failed fan-out must not turn into an error the client
    // would answer by posting again. Feeds that missed it get it back on their next rebuild
    // (an invalidation, or the cache TTL).
    try {
      const friends = await this.friendships.friendIds(authorId);
      await Promise.all([
        this.cache.addEntry({ postId: id, authorId }, friends),
        this.cache.rememberPosts([post]),
        this.announcer.posted(post, friends).catch((error: unknown) => this.onCacheError(error, 'announce the new post live')),
      ]);
    } catch (error) {
      this.onCacheError(error, 'fan the new post out to the cached feeds');
    }
    return post;
  }

  /**
   * Deletes the author's own post. Anyone else's post, or one that does not exist, is the same
   * 404: a caller cannot tell others' post ids apart from unused ones.
   */
  async delete(authorId: string, postId: string): Promise<void> {
    if ((await this.store.authorOf(postId)) !== authorId) throw postNotFound();
    const entry: FeedEntry = { postId, authorId };
    const friends = await this.friendships.friendIds(authorId);
    // Out of the caches before the delete (if the cache is unreachable, nothing is deleted and the
    // caller may retry) and again after it (a reader that cached it in between loses it too).
    await this.forget(entry, friends);
    if (!(await this.store.delete(postId, authorId))) throw postNotFound();
    await Promise.all([
      this.forget(entry, friends).catch((error: unknown) => this.onCacheError(error, 'drop the deleted post from the cached feeds')),
      this.announcer.deleted(postId, authorId, friends).catch((error: unknown) => this.onCacheError(error, 'announce the deletion live')),
    ]);
  }

  private async forget(entry: FeedEntry, friends: readonly string[]): Promise<void> {
    await Promise.all([this.cache.removeEntry(entry, friends), this.cache.forgetPost(entry.postId)]);
  }
}
