import { describe, expect, it } from 'vitest';
import { HttpError } from '../server/http-error.js';
import { splitTarget, upgradeAccessToken, withoutToken } from './upgrade-token.js';

const q = (query: string) => new URLSearchParams(query);
const refusal = (authorization: string | undefined, query: string) => {
  try {
    upgradeAccessToken(authorization, q(query));
  } catch (error) {
    return `${(error as HttpError).status} ${(error as HttpError).code}`;
  }
  return 'accepted';
};

describe('the access token of an upgrade', () => {
  it('reads the Authorization header first, as requireUser does', () => {
    expect(upgradeAccessToken('Bearer a.b.c', q('access_token=x.y.z'))).toBe('a.b.c');
    expect(upgradeAccessToken('bearer a.b.c', q(''))).toBe('a.b.c');
  });

  it('falls back to the access_token query parameter (browsers cannot set headers)', () => {
    expect(upgradeAccessToken(undefined, q('since=4&access_token=x.y-_z'))).toBe('x.y-_z');
    expect(upgradeAccessToken('  ', q('access_token=x.y.z'))).toBe('x.y.z');
  });

  it('answers 401 missing_token when neither carries one', () => {
    expect(refusal(undefined, '')).toBe('401 missing_token');
    expect(refusal(undefined, 'access_token=')).toBe('401 missing_token');
    expect(refusal('', 'since=1')).toBe('401 missing_token');
  });

  it.each([
    ['a bad header, even with a good query', 'Basic abc', 'access_token=x.y.z'],
    ['two tokens in the query', undefined, 'access_token=a.b.c&access_token=x.y.z'],
    ['characters no token has', undefined, 'access_token=a.b.c%3Bx%3D1'],
    ['spaces', undefined, 'access_token=a+b'],
  ])('answers 401 invalid_token for %s', (_what, header, query) => {
    expect(refusal(header, query)).toBe('401 invalid_token');
  });

  it('splits a request target and hides the token from the hooks', () => {
    const { path, query } = splitTarget('/ws?since=12&access_token=secret');
    expect(path).toBe('/ws');
    expect(withoutToken(query).toString()).toBe('since=12');
    expect(query.get('access_token')).toBe('secret');
    expect(splitTarget(undefined)).toMatchObject({ path: '/' });
    expect(splitTarget('/ws?since=%zz').query.get('since')).toBe('%zz');
  });
});
