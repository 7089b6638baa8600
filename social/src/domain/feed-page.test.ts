import { describe, expect, it } from 'vitest';
import { decodeFeedCursor } from './cursors.js';
import { concatOlder, olderThan, pageOf } from './feed-page.js';
import { comparePostIds } from './post-ids.js';

const A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const entries = (...ids: string[]) => ids.map((postId) => ({ postId, authorId: A }));
const ids = (list: Array<{ postId: string }>) => list.map((entry) => entry.postId);

describe('post ids', () => {
  it('order as numbers, not as text (9 < 10, and past 2^53)', () => {
    expect(comparePostIds('9', '10')).toBeLessThan(0);
    expect(comparePostIds('9007199254740993', '9007199254740992')).toBeGreaterThan(0);
    expect(comparePostIds('77', '77')).toBe(0);
  });
});

describe('feed pages', () => {
  const feed = entries('120', '100', '99', '10', '9', '1');

  it('take the entries older than the cursor, at most as many as wanted', () => {
    expect(ids(olderThan(feed, undefined, 3))).toEqual(['120', '100', '99']);
    expect(ids(olderThan(feed, '100', 3))).toEqual(['99', '10', '9']);
    expect(ids(olderThan(feed, '10', 10))).toEqual(['9', '1']);
    expect(olderThan(feed, '1', 10)).toEqual([]);
  });

  it('cut one page and point the cursor below its last entry only when more follow', () => {
    const first = pageOf(olderThan(feed, undefined, 3), 2);
    expect(ids(first.page)).toEqual(['120', '100']);
    expect(decodeFeedCursor(first.nextCursor!)).toBe('100');
    const last = pageOf(olderThan(feed, '9', 3), 2);
    expect(ids(last.page)).toEqual(['1']);
    expect(last.nextCursor).toBeNull();
  });

  it('walk the whole feed page by page without gaps or repeats', () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const { page, nextCursor } = pageOf(olderThan(feed, cursor && decodeFeedCursor(cursor), 3), 2);
      seen.push(...ids(page));
      cursor = nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(ids(feed));
  });

  it('append older entries from the database without repeating or reordering the cached ones', () => {
    expect(ids(concatOlder(entries('50', '40'), entries('40', '45', '30', '20')))).toEqual(['50', '40', '30', '20']);
    expect(ids(concatOlder([], entries('3', '2')))).toEqual(['3', '2']);
  });
});
