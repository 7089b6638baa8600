import { describe, expect, it } from 'vitest';
import { refreshBody, signInBody, signUpBody, userBatchQuery, userSearchQuery } from './api.js';

const valid = { email: 'Ada@Example.com', password: 'correct horse', firstName: ' Ada ', lastName: 'Lovelace', birthday: '1815-12-10' };

/** The first problem's field, as the 400 names it. */
const problem = (result: { success: boolean; error?: { issues: Array<{ path: PropertyKey[]; message: string }> } }) =>
  result.success ? 'ok' : `${result.error!.issues[0]!.path.join('.') || 'input'}: ${result.error!.issues[0]!.message}`;

describe('signUpBody', () => {
  it('normalizes: lower-cased email, trimmed NFC names', () => {
    expect(signUpBody.parse({ ...valid, lastName: 'Lovelace\u0301' })).toMatchObject({
      email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace\u0301'.normalize('NFC'),
    });
    expect(signUpBody.parse({ ...valid, firstName: '李', city: 'Zürich 🏔', interests: 'chess,\nmaths' })).toMatchObject({ firstName: '李' });
  });

  it.each([
    ['missing email', { ...valid, email: undefined }, /^email:/],
    ['extra field', { ...valid, isAdmin: true }, /Unrecognized key: "isAdmin"/],
    ['number as name', { ...valid, firstName: 42 }, /^firstName:/],
    ['empty name', { ...valid, firstName: '   ' }, /^firstName:/],
    ['oversized name', { ...valid, lastName: 'x'.repeat(101) }, /^lastName:/],
    ['control character', { ...valid, lastName: 'Love\u0000lace' }, /^lastName:/],
    ['lone surrogate', { ...valid, city: 'bad \ud800' }, /^city:/],
    ['short password', { ...valid, password: 'short' }, /^password:/],
    ['repetitive password', { ...valid, password: 'aaaaaaaaaaaa' }, /^password: is too weak/],
    ['oversized password', { ...valid, password: 'x1y2'.repeat(40) }, /^password:/],
    ['not an email', { ...valid, email: "x' OR 1=1 --" }, /^email:/],
    ['impossible date', { ...valid, birthday: '2001-02-30' }, /^birthday:/],
    ['future birthday', { ...valid, birthday: '2999-01-01' }, /^birthday:/],
    ['birthday before SQL DATE', { ...valid, birthday: '0999-12-31' }, /^birthday:/],
    ['array body', [valid], /^input:/],
  ])('%s → names the field', (_name, body, expected) => {
    expect(problem(signUpBody.safeParse(body))).toMatch(expected);
  });
});

describe('the other bodies and queries', () => {
  it('sign-in takes any password up to the bound, refresh only a token-shaped string', () => {
    expect(signInBody.parse({ email: 'A@B.co', password: 'x' })).toEqual({ email: 'a@b.co', password: 'x' });
    expect(problem(signInBody.safeParse({ email: 'a@b.co', password: 'x'.repeat(129) }))).toMatch(/^password:/);
    expect(problem(refreshBody.safeParse({ refreshToken: 'x'.repeat(43) }))).toBe('ok');
    expect(problem(refreshBody.safeParse({ refreshToken: "' OR 1=1 --" }))).toMatch(/^refreshToken:/);
  });

  it('search needs a prefix and bounds the page size', () => {
    expect(userSearchQuery.parse({ last: 'Lo' })).toEqual({ last: 'Lo', limit: 20 });
    expect(problem(userSearchQuery.safeParse({}))).toMatch(/^first:/);
    expect(problem(userSearchQuery.safeParse({ last: 'Lo', limit: '1000' }))).toMatch(/^limit:/);
    expect(problem(userSearchQuery.safeParse({ last: 'Lo', limit: '0' }))).toMatch(/^limit:/);
    expect(problem(userSearchQuery.safeParse({ last: 'Lo', limit: 'ten' }))).toMatch(/^limit:/);
    expect(problem(userSearchQuery.safeParse({ last: ['a', 'b'] }))).toMatch(/^last:/);
  });

  it('a batch is 1..100 uuids, deduplicated', () => {
    const id = '0b7c5f1e-3a2d-4c8e-9f10-2b3c4d5e6f70';
    expect(userBatchQuery.parse({ ids: `${id},${id}` })).toEqual({ ids: [id] });
    expect(problem(userBatchQuery.safeParse({ ids: `${id},nope` }))).toMatch(/^ids\.1:/);
    const many = Array.from({ length: 101 }, (_, i) => `0b7c5f1e-3a2d-4c8e-9f10-${String(i).padStart(12, '0')}`).join(',');
    expect(problem(userBatchQuery.safeParse({ ids: many }))).toMatch(/^ids:/);
  });
});
