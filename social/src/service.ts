import { liveSockets, type ServiceContext, type ServiceParts, type z } from '@switchyard/infra';
import type { socialConfig } from './config.js';
import { Feed } from './domain/feed.js';
import type { CacheErrorReporter } from './domain/feed-cache.js';
import { Friendships } from './domain/friendships.js';
import { feedTopic } from './domain/live-feed.js';
import { Posts } from './domain/posts.js';
import { socialRoutes } from './routes.js';
import { AuthProfiles, AUTH_CALL_TIMEOUTS } from './store/auth-profiles.js';
import { RedisFeedCache } from './store/feed-cache.js';
import { EventBusFeedAnnouncer } from './store/live-feed.js';
import { MysqlFriendshipStore } from './store/friendships.js';
import { MysqlPostStore } from './store/posts.js';

export type SocialConfig = z.infer<z.ZodObject<typeof socialConfig>>;

/**
 * Wires social: stores (ctx.mysql, ctx.redis, auth through discovery) → domain → routes, and the
 * live feed socket (`GET /ws`: a friend's new post arrives without polling). Nothing here creates tables.
 */
export function setupSocial(ctx: ServiceContext<SocialConfig>): ServiceParts {
  const { config, logger } = ctx;
  const pool = ctx.mysql();
  const cache = new RedisFeedCache(ctx.redis(), {
    keyPrefix: config.SOCIAL_REDIS_PREFIX,
    cacheSize: config.SOCIAL_FEED_CACHE_SIZE,
    ttlSeconds: config.SOCIAL_FEED_TTL_SECONDS,
  });
  const profiles = new AuthProfiles(ctx.client('auth', AUTH_CALL_TIMEOUTS));
  const friendshipStore = new MysqlFriendshipStore(pool);
  const postStore = new MysqlPostStore(pool);
  // The cache is never the truth: a cache write failing after the database changed is logged,
  // and the change stands (the cache's TTL bounds the staleness). While Redis is down every
  // request fails the cache, several times: one line per 10 s, counting the ones it stands for.
  let quietUntil = 0;
  let suppressed = 0;
  const onCacheError: CacheErrorReporter = (error, what) => {
    const now = Date.now();
    if (now < quietUntil) {
      suppressed += 1;
      return;
    }
    logger.warn({ err: (error as Error)?.message ?? String(error), suppressedSinceLast: suppressed }, `could not ${what}`);
    suppressed = 0;
    quietUntil = now + 10_000;
  };
  const events = ctx.events();
  // The feed socket only listens: each connected user hears their own feed's topic, published by
  // whichever instance took the post.
  const live = liveSockets(ctx, {
    onConnect(session) {
      const unsubscribe = events.subscribe(feedTopic(session.user.id), (event) => session.send(event));
      // Posts published while the bus is cut off from Redis never arrive, and nothing else would
      // tell the client: close with 1013, so it reconnects and reads GET /feed again (the feed
      // itself is MySQL's; this socket only announces what changed).
      const stopWatching = events.onInterrupted(() => session.close(1013, 'live_events_interrupted'));
      session.onClose(() => {
        stopWatching();
        unsubscribe();
      });
      return unsubscribe.ready;
    },
  });

  return {
    routes: socialRoutes({
      verifier: ctx.tokenVerifier(),
      profiles,
      friendships: new Friendships(friendshipStore, profiles, cache, onCacheError),
      posts: new Posts(postStore, friendshipStore, cache, onCacheError, new EventBusFeedAnnouncer(events)),
      feed: new Feed(postStore, friendshipStore, cache, { cacheSize: config.SOCIAL_FEED_CACHE_SIZE }, onCacheError),
    }),
    upgrade: live.upgrade,
    onShutdown: (budget) => live.onShutdown(budget),
    // Redis is the feed's cache and the live feed's fan-out, never the truth: while it is down,
    // feeds are read from MySQL and sockets hear nothing new, but the instance stays in Consul.
    degradedWithout: ['redis', 'redisEvents'],
  };
}
