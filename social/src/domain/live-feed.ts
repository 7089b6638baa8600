import type { Post } from '../api.js';

/**
 * What a signed-in friend hears live, the moment a post is published or deleted: the anchor's
 * `/social/ws` push, on the platform's socket machinery. The feed in MySQL (and its Redis cache)
 * stays the truth; a missed event costs nothing a reload of the feed would not show.
 */
export interface FeedAnnouncer {
  posted(post: Post, friendIds: readonly string[]): Promise<void>;
  deleted(postId: string, authorId: string, friendIds: readonly string[]): Promise<void>;
}

/** Events on the feed socket (`GET /ws`). */
export type FeedEvent = { type: 'post'; post: Post } | { type: 'post_deleted'; postId: string; authorId: string };

/** The live topic of one user's feed (the messenger's topics are its own: `user:<id>`). */
export const feedTopic = (userId: string): string => `feed:${userId}`;

/** Announces nothing: for tests of the domain without live delivery. */
export const silentAnnouncer: FeedAnnouncer = { posted: async () => {}, deleted: async () => {} };
