import { describe, expect, it } from 'vitest';
import { decodeFeedCursor, decodeUserCursor, encodeFeedCursor, encodeUserCursor } from './cursors.js';
import { SocialError } from './errors.js';

const ID = '0b6f3c1e-8f43-4c1a-9d2e-3b7a1f0c9e55';

const refusal = (decode: () => unknown) => {
  try {
    decode();
  } catch (error) {
    return error instanceof SocialError ? error.code : error;
  }
  return 'accepted';
};

describe('page cursors', () => {
  it('round-trip the key of the last item, as opaque base64url', () => {
    const cursor = encodeUserCursor('friends', ID);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(cursor).not.toContain(ID);
    expect(decodeUserCursor('friends', cursor)).toBe(ID);
    expect(decodeFeedCursor(encodeFeedCursor('9223372036854775807'))).toBe('9223372036854775807');
  });

  it('refuse a cursor of another list', () => {
    expect(refusal(() => decodeUserCursor('requests', encodeUserCursor('friends', ID)))).toBe('invalid_cursor');
    expect(refusal(() => decodeFeedCursor(encodeUserCursor('friends', ID)))).toBe('invalid_cursor');
  });

  const feedCursor = (text: string) => Buffer.from(text).toString('base64url');
  const canonical = encodeFeedCursor('42');
  // The same bytes spelled with different unused trailing bits.
  const nonCanonical = `${canonical.slice(0, -1)}${String.fromCharCode(canonical.charCodeAt(canonical.length - 1) + 1)}`;

  it.each([
    ['not base64url', 'a+b/c=='],
    ['random text', 'hello'],
    ['a tag without a key', feedCursor('p:')],
    ['a key that is not a post id', feedCursor('p:1 OR 1=1')],
    ['a post id with a leading zero', feedCursor('p:012')],
    ['a post id past 19 digits', feedCursor('p:12345678901234567890')],
    ['a non-canonical spelling of a valid cursor', nonCanonical],
  ])('refuse %s as a feed cursor', (_what, cursor) => {
    expect(refusal(() => decodeFeedCursor(cursor))).toBe('invalid_cursor');
  });

  it('refuse a friends cursor holding something else than a lower-case uuid', () => {
    expect(refusal(() => decodeUserCursor('friends', feedCursor(`f:${ID.toUpperCase()}`)))).toBe('invalid_cursor');
    expect(refusal(() => decodeUserCursor('friends', feedCursor(`f:${ID}:extra`)))).toBe('invalid_cursor');
  });
});
