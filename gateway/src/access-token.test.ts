import { HttpError } from '@switchyard/infra';
import { describe, expect, it } from 'vitest';
import { authenticate, challengeFor, type AccessTokenVerifier } from './access-token.js';

/** Accepts exactly the token "a.b.c", and records what it was asked. */
const seen: string[] = [];
const verifier: AccessTokenVerifier = {
  async verify(token) {
    seen.push(token);
    if (token !== 'a.b.c') throw new HttpError(401, 'invalid_token', 'bad token');
    return { id: 'u1', sessionId: 's1' };
  },
};

const codeOf = (header: string | undefined) =>
  authenticate(verifier, header).then(
    () => 'accepted',
    (error: HttpError) => `${error.status} ${error.code}`,
  );

describe('the bearer token check of upgrade requests (as infra requireUser reads the header)', () => {
  it('passes the token of a Bearer header (any case of the scheme) to the verifier', async () => {
    await expect(authenticate(verifier, 'Bearer a.b.c')).resolves.toEqual({ id: 'u1', sessionId: 's1' });
    await expect(authenticate(verifier, 'bearer a.b.c')).resolves.toMatchObject({ id: 'u1' });
  });

  it.each([undefined, '', '   '])('answers missing_token without a header (%j)', async (header) => {
    await expect(codeOf(header)).resolves.toBe('401 missing_token');
  });

  it.each(['Bearer', 'Basic dXNlcjpwYXNz', 'Token a.b.c', 'a.b.c', 'Bearer a.b.c;DROP', 'Bearer a.b.c d'])(
    'answers invalid_token for %j without asking the verifier',
    async (header) => {
      seen.length = 0;
      await expect(codeOf(header)).resolves.toBe('401 invalid_token');
      expect(seen).toEqual([]);
    },
  );

  it("relays the verifier's verdict on a well-formed token", async () => {
    await expect(codeOf('Bearer x.y.z')).resolves.toBe('401 invalid_token');
  });

  it('takes the access_token query parameter when there is no Authorization header (browsers)', async () => {
    await expect(authenticate(verifier, undefined, new URLSearchParams('access_token=a.b.c&since=4'))).resolves.toMatchObject({ id: 'u1' });
    // The header wins: both hops read the same token by the same rule.
    seen.length = 0;
    await expect(authenticate(verifier, 'Bearer a.b.c', new URLSearchParams('access_token=x.y.z'))).resolves.toMatchObject({ id: 'u1' });
    expect(seen).toEqual(['a.b.c']);
  });

  it.each([
    ['', '401 missing_token'],
    ['access_token=', '401 missing_token'],
    ['access_token=a.b.c&access_token=a.b.c', '401 invalid_token'],
    ['access_token=a.b.c%3BDROP', '401 invalid_token'],
    ['access_token=x.y.z', '401 invalid_token'],
  ])('refuses the query %j with %s', async (query, expected) => {
    const outcome = await authenticate(verifier, undefined, new URLSearchParams(query)).then(
      () => 'accepted',
      (error: HttpError) => `${error.status} ${error.code}`,
    );
    expect(outcome).toBe(expected);
  });

  it('challenges as RFC 6750 says: the scheme alone without a token, invalid_token with a bad one', () => {
    expect(challengeFor(new HttpError(401, 'missing_token', ''))).toBe('Bearer realm="switchyard"');
    expect(challengeFor(new HttpError(401, 'token_expired', ''))).toBe('Bearer realm="switchyard", error="invalid_token"');
    expect(challengeFor(new HttpError(400, 'invalid_request', ''))).toBeUndefined();
  });
});
