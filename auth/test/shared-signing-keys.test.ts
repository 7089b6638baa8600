/**
 * Every auth instance signs with the same keys: two instances started at the same moment on an
 * empty key ring create one key between them (real processes, real MariaDB), so a token minted
 * by either verifies against the other's JWKS and on the other's routes.
 */
import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Running } from '../../test/support/isolated-stack.js';
import { KeyCipher } from '../src/domain/key-encryption.js';
import { AuthTestStack, call, freshAddress } from './support/auth-stack.js';

describe('signing keys shared by auth instances (real processes, MariaDB)', () => {
  const auth = new AuthTestStack();
  const run = auth.run;
  const password = 'correct horse battery staple';
  let one: Running;
  let two: Running;

  const tokensFrom = async (instance: Running, email: string) => {
    const answer = await call(instance.url, 'POST', '/sign-in', { body: { email, password }, from: freshAddress() });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body as { accessToken: string };
  };

  beforeAll(async () => {
    await auth.prepare();
    // Forces the race: the test holds the ring's lock, so both instances read the empty ring and
    // then queue for the lock; once both wait, it lets go. Whoever gets the lock second must see
    // the first one's key and not make another.
    const ring = new KeyCipher(Buffer.from(auth.keyEncryptionKey, 'base64')).ringId;
    const holder = await auth.db().getConnection();
    const [[taken]] = (await holder.query('SELECT GET_LOCK(?, 0) AS locked', [`switchyard_auth_keys_${ring}`])) as any;
    expect(taken.locked).toBe(1);
    try {
      [one, two] = await Promise.all([auth.stack.start('auth'), auth.stack.start('auth')]);
      await auth.stack.waitFor('both instances waiting for the key ring lock', async () => {
        const [[row]] = (await auth.db().query(
          "SELECT COUNT(*) AS waiting FROM information_schema.PROCESSLIST WHERE STATE = 'User lock' AND INFO LIKE ?",
          [`%GET_LOCK%${ring}%`],
        )) as any;
        return Number(row.waiting) >= 2;
      });
    } finally {
      await holder.query('SELECT RELEASE_LOCK(?)', [`switchyard_auth_keys_${ring}`]);
      holder.release();
    }
    await auth.stack.waitPassing('auth', (ids) => ids.includes(one.serviceId) && ids.includes(two.serviceId));
  }, 60_000);
  afterAll(() => auth.teardown());

  it('two instances started together end up with one key and publish the same JWKS', async () => {
    const [rows] = (await auth.db().query('SELECT kid FROM signing_keys')) as any;
    expect(rows).toHaveLength(1);
    const jwksOne = await call(one.url, 'GET', '/.well-known/jwks.json');
    const jwksTwo = await call(two.url, 'GET', '/.well-known/jwks.json');
    expect(jwksOne.body).toEqual(jwksTwo.body);
    expect(jwksOne.body.keys.map((key: { kid: string }) => key.kid)).toEqual([rows[0].kid]);
  });

  it("a token minted by one instance verifies against the other's JWKS and works on the other's routes", async () => {
    const email = `shared.${run}@${run}.auth.test`;
    const signedUp = await call(one.url, 'POST', '/sign-up', { body: { email, password, firstName: 'Sha', lastName: 'Red', birthday: '2000-02-29' } });
    expect(signedUp.status).toBe(201);
    for (const [minter, verifier] of [[one, two], [two, one]] as const) {
      const { accessToken } = await tokensFrom(minter, email);
      const jwks = await call(verifier.url, 'GET', '/.well-known/jwks.json');
      const { payload } = await jwtVerify(accessToken, createLocalJWKSet(jwks.body), { issuer: 'switchyard-auth', audience: 'switchyard' });
      expect(payload.sub).toBe(signedUp.body.id);
      expect((await call(verifier.url, 'GET', '/me', { token: accessToken })).body.email).toBe(email);
    }
  });

  it('an instance started later joins the ring instead of making a key', async () => {
    const three = await auth.stack.start('auth');
    await auth.stack.waitPassing('auth', (ids) => ids.includes(three.serviceId));
    const { accessToken } = await tokensFrom(three, `shared.${run}@${run}.auth.test`);
    const [rows] = (await auth.db().query('SELECT kid FROM signing_keys')) as any;
    expect(rows).toHaveLength(1);
    expect(decodeProtectedHeader(accessToken).kid).toBe(rows[0].kid);
  });

  it('a deployment with another encryption key keeps its own ring: its tokens are refused here', async () => {
    const other = await auth.stack.start('auth', { AUTH_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64') });
    await auth.stack.waitPassing('auth', (ids) => ids.includes(other.serviceId));
    const { accessToken } = await tokensFrom(other, `shared.${run}@${run}.auth.test`);
    const [rows] = (await auth.db().query('SELECT DISTINCT ring_id FROM signing_keys')) as any;
    expect(rows).toHaveLength(2);
    const refused = await call(one.url, 'GET', '/me', { token: accessToken });
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('invalid_token');
  });
});
