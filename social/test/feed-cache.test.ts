/**
 * The feed cache's Lua scripts on the real Redis: the layout and the guarantees the feed relies on
 * (an empty feed is not a miss, a rebuild that raced a write is dropped, fan-out only into cached
 * feeds and in id order, reads only show current friends' posts, the cap hands older pages to
 * the database), and that it fails at once while its connection is down.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createRedis } from '@switchyard/infra';
import { CacheOffline, RedisFeedCache } from '../src/store/feed-cache.js';
import { unavailableDependency } from '../../infra/src/server/dependency-errors.js';
import { uniqueName } from '../../test/support/wait.js';

describe('the Redis feed cache (real Redis)', () => {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
  const prefix = `test:${uniqueName('feed-cache')}:`;
  const cache = new RedisFeedCache(redis, { keyPrefix: prefix, cacheSize: 3, ttlSeconds: 60 });
  const [reader, friend, other] = [randomUUID(), randomUUID(), randomUUID()];
  const entry = (postId: string, authorId = friend) => ({ postId, authorId });
  const ids = (slice: Awaited<ReturnType<typeof cache.read>>) => (slice === 'miss' ? 'miss' : { end: slice.end, ids: slice.entries.map((e) => e.postId) });
  const build = async (entries: Array<{ postId: string; authorId: string }>, complete: boolean, friends = [friend]) =>
    cache.replace(reader, await cache.version(reader), { friends, entries, complete });

  beforeEach(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('tells an uncached feed (miss) from a cached empty one (no friends, no posts)', async () => {
    expect(await cache.read(reader, undefined, 10)).toBe('miss');
    expect(await build([], true, [])).toBe(true);
    expect(ids(await cache.read(reader, undefined, 10))).toEqual({ end: 'complete', ids: [] });
    expect(await redis.ttl(cache.keys(reader).feed)).toBeGreaterThan(0);
  });

  it('drops a rebuild when a fan-out or an invalidation happened after it read the version', async () => {
    for (const write of [() => cache.addEntry(entry('7'), [reader]), () => cache.invalidate([reader])]) {
      const version = await cache.version(reader);
      await write();
      expect(await cache.replace(reader, version, { friends: [friend], entries: [entry('5')], complete: true })).toBe(false);
      expect(await cache.read(reader, undefined, 10)).toBe('miss');
    }
    expect(await build([entry('5')], true)).toBe(true);
  });

  it('fans out only into cached feeds, at the place of the id, once, capped', async () => {
    await cache.addEntry(entry('4'), [reader]);
    expect(await cache.read(reader, undefined, 10)).toBe('miss'); // not created by a fan-out

    await build([entry('20'), entry('10')], true);
    await cache.addEntry(entry('30'), [reader, other]); // other's feed is not cached: untouched
    await cache.addEntry(entry('25'), [reader]); // arrived after a newer one: goes below it
    await cache.addEntry(entry('25'), [reader]); // twice: once
    expect(await redis.lrange(cache.keys(reader).feed, 0, -1)).toEqual([`30:${friend}`, `25:${friend}`, `20:${friend}`]);
    expect(await redis.exists(cache.keys(other).feed)).toBe(0);
    // Trimmed to 3 entries: the 'end' marker went with 10, so older pages are the database's.
    expect(ids(await cache.read(reader, undefined, 10))).toEqual({ end: 'partial', ids: ['30', '25', '20'] });
    // Older than everything a capped list holds: left to the database.
    await cache.addEntry(entry('5'), [reader]);
    expect(ids(await cache.read(reader, undefined, 10))).toEqual({ end: 'partial', ids: ['30', '25', '20'] });
  });

  it('reads entries older than the cursor, at most as many as asked, only by current friends', async () => {
    await build([entry('100'), entry('90', other), entry('80'), entry('9')], true);
    expect(ids(await cache.read(reader, undefined, 2))).toEqual({ end: 'more', ids: ['100', '80'] });
    expect(ids(await cache.read(reader, '100', 10))).toEqual({ end: 'complete', ids: ['80', '9'] });
    expect(ids(await cache.read(reader, '10', 10))).toEqual({ end: 'complete', ids: ['9'] }); // numeric, not text order
    expect(ids(await cache.read(reader, '9', 10))).toEqual({ end: 'complete', ids: [] });
  });

  it('takes a deleted post out of the cached feeds and bumps their version', async () => {
    await build([entry('12'), entry('11')], true);
    const version = await cache.version(reader);
    await cache.removeEntry(entry('12'), [reader]);
    expect(ids(await cache.read(reader, undefined, 10))).toEqual({ end: 'complete', ids: ['11'] });
    expect(await cache.version(reader)).not.toBe(version);
  });

  it('keeps post bodies; an unreadable one is a miss', async () => {
    const post = { id: '42', authorId: friend, text: 'hi 👋', createdAt: new Date(0).toISOString() };
    await cache.rememberPosts([post]);
    await redis.set(`${prefix}post:43`, '{not json');
    expect([...(await cache.posts(['42', '43', '44'])).values()]).toEqual([post]);
    await cache.forgetPost('42');
    expect((await cache.posts(['42'])).size).toBe(0);
  });
});

describe('the Redis feed cache while its connection is down', () => {
  it('fails every operation at once (no waiting through reconnections), as an outage the API answers 503', async () => {
    // The platform's connection settings (offline queue on, retries): nothing listens on port 1.
    const redis = createRedis('redis://127.0.0.1:1', { connectTimeout: 200 });
    redis.on('error', () => {});
    const cache = new RedisFeedCache(redis, { keyPrefix: `test:${uniqueName('offline')}:`, cacheSize: 3, ttlSeconds: 60 });
    const user = randomUUID();
    try {
      const operations = [
        () => cache.read(user, undefined, 10),
        () => cache.version(user),
        () => cache.replace(user, '', { friends: [], entries: [], complete: true }),
        () => cache.invalidate([user]),
        () => cache.addEntry({ postId: '1', authorId: user }, [user]),
        () => cache.removeEntry({ postId: '1', authorId: user }, [user]),
        () => cache.posts(['1']),
        () => cache.rememberPosts([{ id: '1', authorId: user, text: 'x', createdAt: new Date().toISOString() }]),
        () => cache.forgetPost('1'),
      ];
      for (const operation of operations) {
        const started = performance.now();
        const error = await operation().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(CacheOffline);
        expect(unavailableDependency(error)).toBe('redis');
        expect(performance.now() - started).toBeLessThan(50);
      }
    } finally {
      redis.disconnect();
    }
  });
});
