import type { ServiceContext, ServiceParts, z } from '@switchyard/infra';
import type { socialConfig } from './config.js';
import { Feed } from './domain/feed.js';
import type { CacheErrorReporter } from './domain/feed-cache.js';
import { Friendships } from './domain/friendships.js';
import { Posts } from './domain/posts.js';
import { socialRoutes } from './routes.js';
import { AuthProfiles, AUTH_CALL_TIMEOUTS } from './store/auth-profiles.js';
import { RedisFeedCache } from './store/feed-cache.js';
import { MysqlFriendshipStore } from './store/friendships.js';
import { MysqlPostStore } from './store/posts.js';

export type SocialConfig = z.infer<z.ZodObject<typeof socialConfig>>;

/** Wires social: stores (ctx.mysql, ctx.redis, auth through discovery) → domain → routes. Nothing here creates tables. */
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
  // and the change stands (the cache's TTL bounds the staleness).
  const onCacheError: CacheErrorReporter = (error, what) =>
    logger.warn({ err: (error as Error)?.message ?? String(error) }, `feed cache: could not ${what}`);

  return {
    routes: socialRoutes({
      verifier: ctx.tokenVerifier(),
      profiles,
      friendships: new Friendships(friendshipStore, profiles, cache, onCacheError),
      posts: new Posts(postStore, friendshipStore, cache, onCacheError),
      feed: new Feed(postStore, friendshipStore, cache, { cacheSize: config.SOCIAL_FEED_CACHE_SIZE }, onCacheError),
    }),
  };
}
