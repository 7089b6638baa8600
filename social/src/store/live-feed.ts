import type { EventBus } from '@switchyard/infra';
import type { Post } from '../api.js';
import { feedTopic, type FeedAnnouncer, type FeedEvent } from '../domain/live-feed.js';

/** FeedAnnouncer over the platform's event bus: one event per friend's topic, seen by whichever instance holds their socket. */
export class EventBusFeedAnnouncer implements FeedAnnouncer {
  constructor(private readonly events: Pick<EventBus, 'publish'>) {}

  posted(post: Post, friendIds: readonly string[]): Promise<void> {
    return this.announce({ type: 'post', post }, friendIds);
  }

  deleted(postId: string, authorId: string, friendIds: readonly string[]): Promise<void> {
    return this.announce({ type: 'post_deleted', postId, authorId }, friendIds);
  }

  private async announce(event: FeedEvent, friendIds: readonly string[]): Promise<void> {
    await Promise.all(friendIds.map((friendId) => this.events.publish(feedTopic(friendId), event)));
  }
}
