/**
 * Posts and the feed through the real social process, on the real MariaDB and Redis: who sees
 * what (friends yes, strangers no, a removed friend's and a deleted post no more), cursor paging
 * (past what the cache keeps: this stack caches only 5 entries per feed), and the cache rebuilt
 * after its keys are flushed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newestQuery } from '../src/store/posts.js';
import { SocialTestStack, type TestUser } from './support/social-stack.js';

const CACHE_SIZE = 5;

describe('social posts and feed (real processes, MariaDB, Redis, Consul)', () => {
  const s = new SocialTestStack({ SOCIAL_FEED_CACHE_SIZE: String(CACHE_SIZE) });

  beforeAll(() => s.start(), 90_000);
  afterAll(() => s.teardown());

  const befriend = async (a: TestUser, b: TestUser) => {
    expect((await s.api(a, 'POST', '/friends/requests', { body: { userId: b.id } })).status).toBe(201);
    expect((await s.api(b, 'POST', `/friends/requests/${a.id}/accept`)).status).toBe(200);
  };
  const publish = async (author: TestUser, text: string) => {
    const answer = await s.api(author, 'POST', '/posts', { body: { text } });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    return answer.body as { id: string; authorId: string; text: string; createdAt: string };
  };
  const feedIds = async (reader: TestUser, query = '') => {
    const answer = await s.api(reader, 'GET', `/feed${query}`);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return (answer.body.items as Array<{ id: string }>).map((post) => post.id);
  };
  /** Every page of the reader's feed, following nextCursor to the end. */
  const walkFeed = async (reader: TestUser, limit: number) => {
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const answer: any = await s.api(reader, 'GET', `/feed?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(answer.body.items.length).toBeLessThanOrEqual(limit);
      ids.push(...answer.body.items.map((post: { id: string }) => post.id));
      cursor = answer.body.nextCursor;
      pages += 1;
    } while (cursor && pages < 50);
    return ids;
  };
  const newestFirst = (ids: string[]) => [...ids].sort((a, b) => (BigInt(b) > BigInt(a) ? 1 : -1));

  it('a friend sees my post (fanned out into their cached feed); a stranger and I do not', async () => {
    const [ana, bo, cy] = [await s.user('Ana'), await s.user('Bo'), await s.user('Cy')];
    await befriend(ana, bo);
    expect(await feedIds(ana)).toEqual([]); // builds (and caches) ana's empty feed

    const post = await publish(bo, `hello from bo ${s.run} 👋`);
    expect(post).toEqual({ id: expect.stringMatching(/^[1-9][0-9]*$/), authorId: bo.id, text: `hello from bo ${s.run} 👋`, createdAt: expect.any(String) });
    expect(new Date(post.createdAt).toISOString()).toBe(post.createdAt);
    // Fan-out on write: the post is in ana's cached list before she reads.
    expect(await s.redis().lrange(s.feedKey(ana.id), 0, -1)).toEqual([`${post.id}:${bo.id}`, 'end']);

    const feed = await s.api(ana, 'GET', '/feed');
    expect(feed.body).toEqual({ items: [post], nextCursor: null });
    expect(feed.headers.get('cache-control')).toBe('private, no-store');
    expect(await feedIds(cy)).toEqual([]);
    expect(await feedIds(bo)).toEqual([]); // my feed is my friends' posts, not mine
  });

  it("a removed friend's posts leave the feed (both ways), cached or not", async () => {
    const [dee, eli] = [await s.user('Dee'), await s.user('Eli')];
    await befriend(dee, eli);
    const fromEli = await publish(eli, `eli ${s.run}`);
    const fromDee = await publish(dee, `dee ${s.run}`);
    expect(await feedIds(dee)).toEqual([fromEli.id]);
    expect(await feedIds(eli)).toEqual([fromDee.id]);

    expect((await s.api(dee, 'DELETE', `/friends/${eli.id}`)).status).toBe(204);
    expect(await feedIds(dee)).toEqual([]);
    expect(await feedIds(eli)).toEqual([]);
    // A later post of the ex-friend does not reach the feed either.
    await publish(eli, `eli again ${s.run}`);
    expect(await feedIds(dee)).toEqual([]);
  });

  it('a deleted post leaves the feed; only its author may delete it, others get the 404 of a missing post', async () => {
    const [fay, gil, hex] = [await s.user('Fay'), await s.user('Gil'), await s.user('Hex')];
    await befriend(fay, gil);
    const [kept, doomed] = [await publish(gil, `kept ${s.run}`), await publish(gil, `doomed ${s.run}`)];
    expect(await feedIds(fay)).toEqual([doomed.id, kept.id]);

    for (const intruder of [fay, hex]) {
      const answer = await s.api(intruder, 'DELETE', `/posts/${doomed.id}`);
      expect(answer.status).toBe(404);
      expect(answer.body.error.code).toBe('post_not_found');
    }
    expect((await s.api(fay, 'DELETE', '/posts/999999999999')).body.error.code).toBe('post_not_found');
    expect(await feedIds(fay)).toEqual([doomed.id, kept.id]);

    expect((await s.api(gil, 'DELETE', `/posts/${doomed.id}`)).status).toBe(204);
    expect(await feedIds(fay)).toEqual([kept.id]);
    expect((await s.api(gil, 'DELETE', `/posts/${doomed.id}`)).status).toBe(404);
    const [[row]] = (await s.db().query('SELECT COUNT(*) AS n FROM posts WHERE id = ?', [doomed.id])) as any;
    expect(Number(row.n)).toBe(0);
  });

  it('pages the feed newest first with a cursor, past the cached entries, every post exactly once', async () => {
    const [ivy, jay, kim] = [await s.user('Ivy'), await s.user('Jay'), await s.user('Kim')];
    await befriend(ivy, jay);
    await befriend(ivy, kim);
    const posted: string[] = [];
    for (let i = 0; i < 8; i += 1) posted.push((await publish(i % 2 ? jay : kim, `post ${i} ${s.run}`)).id);
    const expected = newestFirst(posted);

    expect(await walkFeed(ivy, 3)).toEqual(expected); // the first read rebuilds from MySQL
    expect(await s.redis().llen(s.feedKey(ivy.id))).toBe(CACHE_SIZE); // capped: no 'end', the rest is MySQL's
    expect(await walkFeed(ivy, 3)).toEqual(expected); // from the cache, then MySQL past its end
    expect(await walkFeed(ivy, 100)).toEqual(expected);
    expect(await walkFeed(ivy, 1)).toEqual(expected);

    // A post published between two pages shows on a new first page, never shifting the walk.
    const first = await s.api(ivy, 'GET', '/feed?limit=4');
    const newer = await publish(jay, `newer ${s.run}`);
    const second = await s.api(ivy, 'GET', `/feed?limit=4&cursor=${first.body.nextCursor}`);
    expect([...first.body.items, ...second.body.items].map((p: { id: string }) => p.id)).toEqual(expected);
    expect((await feedIds(ivy, '?limit=1'))[0]).toBe(newer.id);
  });

  it('rebuilds the feed from MySQL after its cache keys are flushed', async () => {
    const [lou, max] = [await s.user('Lou'), await s.user('Max')];
    await befriend(lou, max);
    const ids = [(await publish(max, `one ${s.run}`)).id, (await publish(max, `two ${s.run}`)).id];
    const before = await feedIds(lou);
    expect(before).toEqual(newestFirst(ids));

    expect(await s.redis().del(s.feedKey(lou.id))).toBe(1);
    expect(await feedIds(lou)).toEqual(before);
    expect(await s.redis().lrange(s.feedKey(lou.id), 0, -1)).toEqual([...before.map((id) => `${id}:${max.id}`), 'end']);

    // Every key of this run (feeds, friend sets, versions, cached posts) gone at once.
    const keys = await s.redis().keys(`${s.redisPrefix}*`);
    expect(keys.length).toBeGreaterThan(0);
    await s.redis().del(...keys);
    expect(await feedIds(lou)).toEqual(before);
    const [post] = (await s.api(lou, 'GET', '/feed?limit=1')).body.items;
    expect(post).toMatchObject({ id: before[0], authorId: max.id, text: `two ${s.run}` });
  });

  it('stores a 500-character post of emoji and text exactly; 501 characters → 400', async () => {
    const [ned, oz] = [await s.user('Ned'), await s.user('Oz')];
    await befriend(ned, oz);
    const text = `${'😀'.repeat(250)}${'é'.repeat(249)}\n`;
    const post = await publish(oz, text);
    expect(post.text).toBe(text);
    await s.redis().del(s.feedKey(ned.id), `${s.redisPrefix}post:${post.id}`);
    const [read] = (await s.api(ned, 'GET', '/feed')).body.items;
    expect(read.text).toBe(text); // read back from MySQL, not from a cache
    const tooLong = await s.api(oz, 'POST', '/posts', { body: { text: `${text}x` } });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error).toEqual({ code: 'invalid_request', message: 'text: must be at most 500 characters' });
  });

  it("reads posts by the author index (EXPLAIN of the store's own query): no table scan", async () => {
    const authors = ['0b6f3c1e-8f43-4c1a-9d2e-3b7a1f0c9e55', '1c7f3c1e-8f43-4c1a-9d2e-3b7a1f0c9e55'];
    for (const before of [undefined, '1000']) {
      const { sql, values } = newestQuery(authors, before, 21);
      const [[plan]] = (await s.db().query(`EXPLAIN ${sql}`, values)) as any;
      expect(plan.key, `before ${before}`).toBe('posts_author_id');
      expect(plan.type).toBe('range');
    }
  });
});
