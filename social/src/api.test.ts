import { describe, expect, it } from 'vitest';
import { createPostBody, friendRequestBody, pageQuery, postIdParams } from './api.js';

const problems = (result: { success: boolean; error?: { issues: Array<{ path: PropertyKey[]; message: string }> } }) =>
  result.success ? [] : result.error!.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);

describe('post text', () => {
  const post = (text: unknown) => createPostBody.safeParse({ text });

  it('counts characters as code points: 500 emoji fit, 501 characters do not', () => {
    expect(post('😀'.repeat(500)).success).toBe(true); // 1000 UTF-16 units
    expect(post('a'.repeat(500)).success).toBe(true);
    expect(problems(post('a'.repeat(501)))).toEqual(['text: must be at most 500 characters']);
    expect(problems(post('😀'.repeat(501)))).toEqual(['text: must be at most 500 characters']);
    // A combining sequence is several characters, as MySQL counts them.
    expect(post('e\u0301'.repeat(250)).success).toBe(true);
    expect(post('e\u0301'.repeat(251)).success).toBe(false);
  });

  it.each([
    ['empty', ''],
    ['spaces', '   '],
    ['line breaks and tabs', '\n\t\r\n'],
    ['no-break spaces', '\u00a0\u3000'],
  ])('refuses a blank text (%s)', (_what, text) => {
    expect(problems(post(text))).toContain('text: must not be blank');
  });

  it('refuses what is not text: lone surrogates, NUL and other control characters', () => {
    expect(problems(post('half an emoji \ud83d'))).toEqual(['text: must be valid text (no lone surrogates)']);
    expect(post('\udc00 reversed \ud83d').success).toBe(false);
    expect(post('nul \u0000 inside').success).toBe(false);
    expect(post('escape \u001b[31m').success).toBe(false);
    expect(post('line one\nline two\ttabbed').success).toBe(true);
  });

  it('refuses extra fields and wrong types', () => {
    expect(problems(createPostBody.safeParse({ text: 'hi', authorId: 'x' }))).toEqual([': Unrecognized key: "authorId"']);
    expect(post(42).success).toBe(false);
    expect(createPostBody.safeParse(undefined).success).toBe(false);
  });
});

describe('pages', () => {
  it('default to 20 and take limits 1..100 only', () => {
    expect(pageQuery.parse({})).toEqual({ limit: 20 });
    expect(pageQuery.parse({ limit: '100', cursor: 'abc' })).toEqual({ limit: 100, cursor: 'abc' });
    for (const limit of ['0', '101', '1000000', '-1', '2.5', 'ten', '']) expect(pageQuery.safeParse({ limit }).success, limit).toBe(false);
  });

  it('take no other parameter (a feed is always the caller’s: no user id)', () => {
    expect(problems(pageQuery.safeParse({ userId: 'someone' }))).toEqual([': Unrecognized key: "userId"']);
  });
});

describe('ids', () => {
  it('post ids are positive decimal integers within BIGINT', () => {
    expect(postIdParams.safeParse({ id: '1' }).success).toBe(true);
    expect(postIdParams.safeParse({ id: '9223372036854775807' }).success).toBe(true);
    for (const id of ['0', '01', '-1', '1e3', '9223372036854775808', '1 OR 1=1', 'abc', '']) {
      expect(postIdParams.safeParse({ id }).success, id).toBe(false);
    }
  });

  it('friend requests name a user by uuid', () => {
    expect(friendRequestBody.safeParse({ userId: '0b6f3c1e-8f43-4c1a-9d2e-3b7a1f0c9e55' }).success).toBe(true);
    expect(problems(friendRequestBody.safeParse({ userId: "' OR 1=1 --" }))).toEqual(['userId: Invalid UUID']);
  });
});
