import { describe, expect, it } from 'vitest';
import { chatIdParams, chatPageQuery, liveQuery, markReadBody, messagePageQuery, openChatBody, sendMessageBody } from './api.js';

const problems = (result: { success: boolean; error?: { issues: Array<{ path: PropertyKey[]; message: string }> } }) =>
  result.success ? [] : result.error!.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);

describe('message bodies', () => {
  const send = (text: unknown, clientMessageId: unknown = 'k-1') => sendMessageBody.safeParse({ text, clientMessageId });

  it('count characters as code points: 4000 emoji fit, 4001 characters do not', () => {
    expect(send('😀'.repeat(4000)).success).toBe(true);
    expect(send('a'.repeat(4000)).success).toBe(true);
    expect(problems(send('a'.repeat(4001)))).toEqual(['text: must be at most 4000 characters']);
    expect(problems(send('😀'.repeat(4001)))).toEqual(['text: must be at most 4000 characters']);
    expect(problems(send('a'.repeat(100_000)))).toEqual(['text: must be at most 4000 characters']);
  });

  it('refuse blank text and what is not text', () => {
    expect(problems(send(' \n\t '))).toContain('text: must not be blank');
    expect(problems(send('half \ud83d'))).toEqual(['text: must be valid text (no lone surrogates)']);
    expect(send('nul \u0000').success).toBe(false);
    expect(send('line\nbreak\ttab').success).toBe(true);
  });

  it('take idempotency keys of up to 64 safe characters (a uuid fits)', () => {
    expect(send('hi', '0b6f3c1e-8f43-4c1a-9d2e-3b7a1f0c9e55').success).toBe(true);
    expect(send('hi', 'a'.repeat(64)).success).toBe(true);
    expect(problems(send('hi', 'a'.repeat(65)))).toEqual(['clientMessageId: must be at most 64 characters']);
    for (const key of ['', 'has space', "it's", 'ключ', 42, null]) expect(send('hi', key).success, String(key)).toBe(false);
  });

  it('refuse extra fields and wrong types', () => {
    expect(problems(sendMessageBody.safeParse({ text: 'hi', clientMessageId: 'k', authorId: 'x' }))).toEqual([': Unrecognized key: "authorId"']);
    expect(sendMessageBody.safeParse({ text: 5, clientMessageId: 'k' }).success).toBe(false);
    expect(sendMessageBody.safeParse(undefined).success).toBe(false);
    expect(problems(openChatBody.safeParse({ peerId: "' OR 1=1" }))).toEqual(['peerId: Invalid UUID']);
  });
});

describe('ids', () => {
  it('are positive decimal integers within BIGINT', () => {
    for (const id of ['1', '42', '9223372036854775807']) expect(chatIdParams.safeParse({ id }).success, id).toBe(true);
    for (const id of ['0', '01', '-1', '1e3', '9223372036854775808', '99999999999999999999', '1 OR 1=1', '']) {
      expect(chatIdParams.safeParse({ id }).success, id).toBe(false);
    }
    expect(markReadBody.safeParse({ upTo: '7' }).success).toBe(true);
    expect(problems(markReadBody.safeParse({ upTo: 7 }))).toEqual(['upTo: Invalid input: expected string, received number']);
  });
});

describe('pages', () => {
  it('default to 20 and take limits 1..100 only', () => {
    expect(chatPageQuery.parse({})).toEqual({ limit: 20 });
    for (const limit of ['0', '101', '100000000000', '-1', '2.5', 'ten', '']) expect(chatPageQuery.safeParse({ limit }).success, limit).toBe(false);
  });

  it('of messages take a cursor or a message id to start below, not both', () => {
    expect(messagePageQuery.parse({ before: '10', limit: '5' })).toEqual({ before: '10', limit: 5 });
    expect(problems(messagePageQuery.safeParse({ before: '10', cursor: 'abc' }))).toEqual(['before: give cursor or before, not both']);
    expect(problems(messagePageQuery.safeParse({ before: 'x' }))).toEqual(['before: must be a message id (a positive integer)']);
    expect(problems(messagePageQuery.safeParse({ chatId: '1' }))).toEqual([': Unrecognized key: "chatId"']);
  });

  it('of the live socket take the token and a message id to resume from', () => {
    expect(liveQuery.safeParse({ access_token: 'a.b.c', since: '12' }).success).toBe(true);
    expect(liveQuery.safeParse({}).success).toBe(true);
    expect(liveQuery.safeParse({ since: '-1' }).success).toBe(false);
  });
});
