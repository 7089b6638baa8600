import { z } from '@switchyard/infra';

/** social's variables, beyond the platform's (a bad one stops startup with one line). */
export const socialConfig = {
  /** Prefix of social's Redis keys (the feed cache): tests give each run its own. */
  SOCIAL_REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]{0,100}$/, 'letters, digits, :, _ and -').default('social:'),
  /** Posts a cached feed keeps (newest first); older pages are read from the database. */
  SOCIAL_FEED_CACHE_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  /**
   * Lifetime of a cached feed and of cached posts, in seconds. A rebuild costs two indexed queries;
   * the TTL bounds how long a cache write that failed after a database change leaves a feed stale.
   */
  SOCIAL_FEED_TTL_SECONDS: z.coerce.number().int().min(10).max(7 * 24 * 3600).default(3600),
};
