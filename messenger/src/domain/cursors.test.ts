import { describe, expect, it } from 'vitest';
import { decodeChatCursor, decodeMessageCursor, encodeChatCursor, encodeMessageCursor } from './cursors.js';
import { MessengerError } from './errors.js';
import { compareIds, dialogKey } from './ids.js';

const refusal = (decode: () => unknown) => {
  try {
    decode();
  } catch (error) {
    return error instanceof MessengerError ? error.code : error;
  }
  return 'accepted';
};
const raw = (text: string) => Buffer.from(text).toString('base64url');

describe('page cursors', () => {
  it('round-trip their keys as opaque base64url', () => {
    const at = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
    const chat = encodeChatCursor({ activityAt: at, chatId: '9223372036854775807' });
    expect(chat).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeChatCursor(chat)).toEqual({ activityAt: at, chatId: '9223372036854775807' });
    expect(decodeMessageCursor(encodeMessageCursor('42'))).toBe('42');
  });

  it("refuse the other list's cursor", () => {
    expect(refusal(() => decodeMessageCursor(encodeChatCursor({ activityAt: 1, chatId: '1' })))).toBe('invalid_cursor');
    expect(refusal(() => decodeChatCursor(encodeMessageCursor('1')))).toBe('invalid_cursor');
  });

  const canonical = encodeMessageCursor('42');
  const nonCanonical = `${canonical.slice(0, -1)}${String.fromCharCode(canonical.charCodeAt(canonical.length - 1) + 1)}`;

  it.each([
    ['not base64url', 'a+b/c=='],
    ['random text', 'hello'],
    ['a tag without a key', raw('m:')],
    ['SQL', raw('m:1 OR 1=1')],
    ['a leading zero', raw('m:012')],
    ['an id past BIGINT', raw('m:9223372036854775808')],
    ['an id past 19 digits', raw('m:12345678901234567890')],
    ['a non-canonical spelling', nonCanonical],
  ])('refuse %s as a message cursor', (_what, cursor) => {
    expect(refusal(() => decodeMessageCursor(cursor))).toBe('invalid_cursor');
  });

  it.each([
    ['no chat id', raw('c:123')],
    ['a negative time', raw('c:-1:5')],
    ['a time past year 9999', raw(`c:${Date.UTC(10000, 0, 1)}:5`)],
    ['a fractional time', raw('c:1.5:5')],
    ['a chat id past BIGINT', raw('c:1:9223372036854775808')],
    ['extra parts', raw('c:1:5:6')],
  ])('refuse %s as a chat cursor', (_what, cursor) => {
    expect(refusal(() => decodeChatCursor(cursor))).toBe('invalid_cursor');
  });
});

describe('ids', () => {
  it('order as numbers, not as text (9 < 10, and past 2^53)', () => {
    expect(compareIds('9', '10')).toBeLessThan(0);
    expect(compareIds('9007199254740993', '9007199254740992')).toBeGreaterThan(0);
  });

  it('make one dialog key for a pair, whoever asks', () => {
    const a = '0b6f3c1e-8f43-4c1a-9d2e-3b7a1f0c9e55';
    const b = 'f1e2d3c4-0000-4000-8000-000000000001';
    expect(dialogKey(a, b)).toBe(dialogKey(b, a));
    expect(dialogKey(a, b)).toBe(`${a}:${b}`);
    expect(dialogKey(a, b)).toHaveLength(73);
  });
});
