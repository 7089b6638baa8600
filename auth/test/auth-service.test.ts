/**
 * The auth service as a real process on the real MariaDB, Redis and Consul: accounts, sign-in,
 * refresh-token rotation and theft detection, sign-out, the caller's profile, the JWKS, and the
 * internal profile routes social relies on.
 */
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Running } from '../../test/support/isolated-stack.js';
import { AuthTestStack, call, freshAddress } from './support/auth-stack.js';

describe('auth service (real process, MariaDB, Redis, Consul)', () => {
  const auth = new AuthTestStack();
  const run = auth.run;
  let instance: Running;
  const password = 'correct horse battery staple';

  let people = 0;
  const signUp = async (firstName: string, lastName = `Tester${run}`, extra: Record<string, unknown> = {}) => {
    people += 1;
    const email = `${firstName.toLowerCase().replace(/[^a-z]/g, '')}.${people}@${run}.auth.test`;
    const answer = await call(instance.url, 'POST', '/sign-up', { body: { email, password, firstName, lastName, birthday: '1990-04-01', ...extra } });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    return { ...(answer.body as { id: string }), email };
  };
  const signIn = async (email: string, from = freshAddress()) => {
    const answer = await call(instance.url, 'POST', '/sign-in', { body: { email, password }, from });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body as { accessToken: string; refreshToken: string; expiresIn: number };
  };

  beforeAll(async () => {
    await auth.prepare();
    [instance] = await auth.stack.startPassing('auth', 1);
  }, 60_000);
  afterAll(() => auth.teardown());

  it('signs up: 201 with the profile (email lower-cased, never the hash); the same email again → 409 email_taken', async () => {
    const body = { email: `Ada.${run}@Example.COM`, password, firstName: 'Ada', lastName: 'Lovelace', birthday: '1815-12-10', city: 'London' };
    const created = await call(instance.url, 'POST', '/sign-up', { body });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/), email: `ada.${run}@example.com`, firstName: 'Ada', lastName: 'Lovelace',
      birthday: '1815-12-10', gender: null, city: 'London', interests: null, createdAt: expect.any(String),
    });
    expect(JSON.stringify(created.body)).not.toMatch(/argon2|hash|password/i);
    const [[row]] = (await auth.db().query('SELECT password_hash FROM users WHERE id = ?', [created.body.id])) as any;
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);

    const again = await call(instance.url, 'POST', '/sign-up', { body: { ...body, email: body.email.toUpperCase() } });
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ error: { code: 'email_taken', message: expect.any(String) } });
  });

  it('signs in with an EdDSA JWT the JWKS verifies, and GET /me answers the caller with the email', async () => {
    const ada = await signUp('Adele');
    const tokens = await signIn(ada.email.toUpperCase());
    expect(tokens.expiresIn).toBe(900);
    expect(tokens.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const jwks = await call(instance.url, 'GET', '/.well-known/jwks.json');
    expect(jwks.body.keys).toEqual([{ kty: 'OKP', crv: 'Ed25519', x: expect.any(String), kid: expect.any(String), alg: 'EdDSA', use: 'sig' }]);
    const { payload, protectedHeader } = await jwtVerify(tokens.accessToken, createLocalJWKSet(jwks.body), {
      issuer: 'switchyard-auth',
      audience: 'switchyard',
    });
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', kid: jwks.body.keys[0].kid });
    expect(payload).toMatchObject({ sub: ada.id, sid: expect.any(String) });
    expect(payload.exp! - payload.iat!).toBe(900);

    const me = await call(instance.url, 'GET', '/me', { token: tokens.accessToken });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: ada.id, email: ada.email, firstName: 'Adele' });
    expect((await call(instance.url, 'GET', '/me')).status).toBe(401);
    expect((await call(instance.url, 'GET', '/me', { token: `${tokens.accessToken.slice(0, -4)}AAAA` })).status).toBe(401);
  });

  it('a wrong password and an unknown email get the same 401, in about the same time', async () => {
    const users = await Promise.all(['Una', 'Dos', 'Tres', 'Cuatro', 'Cinco'].map((name) => signUp(name, `Timing${run}`)));
    const wrongPassword: number[] = [];
    const unknownEmail: number[] = [];
    const answers = new Set<string>();
    // Interleaved, one address each, so neither the throttle nor a warm-up favours one side.
    for (const user of users) {
      const wrong = await call(instance.url, 'POST', '/sign-in', { body: { email: user.email, password: 'not the password' }, from: freshAddress() });
      const unknown = await call(instance.url, 'POST', '/sign-in', { body: { email: `nobody.${user.email}`, password: 'not the password' }, from: freshAddress() });
      for (const answer of [wrong, unknown]) answers.add(`${answer.status} ${JSON.stringify(answer.body)}`);
      wrongPassword.push(wrong.ms);
      unknownEmail.push(unknown.ms);
    }
    expect([...answers]).toEqual(['401 {"error":{"code":"invalid_credentials","message":"wrong email or password"}}']);
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    // Without the decoy hash an unknown email answers in ~1 ms against the verify's ~10-50 ms.
    expect(median(unknownEmail) / median(wrongPassword)).toBeGreaterThan(0.5);
    expect(median(unknownEmail) / median(wrongPassword)).toBeLessThan(2);
  });

  it('refresh rotates; the rotated token presented again revokes the whole family (its successor too)', async () => {
    const bea = await signUp('Bea');
    const first = await signIn(bea.email);
    const second = await call(instance.url, 'POST', '/token/refresh', { body: { refreshToken: first.refreshToken } });
    expect(second.status).toBe(200);
    expect(second.headers.get('cache-control')).toBe('no-store');
    expect(second.body.refreshToken).not.toBe(first.refreshToken);
    expect(second.body.accessToken).not.toBe(first.accessToken);
    const third = await call(instance.url, 'POST', '/token/refresh', { body: { refreshToken: second.body.refreshToken } });
    expect(third.status).toBe(200);

    const replay = await call(instance.url, 'POST', '/token/refresh', { body: { refreshToken: first.refreshToken } });
    expect(replay.status).toBe(401);
    expect(replay.body.error.code).toBe('invalid_refresh_token');
    // The thief's and the owner's latest tokens die with the family.
    expect((await call(instance.url, 'POST', '/token/refresh', { body: { refreshToken: third.body.refreshToken } })).status).toBe(401);
    const [[session]] = (await auth.db().query('SELECT revoke_reason FROM sessions WHERE user_id = ?', [bea.id])) as any;
    expect(session.revoke_reason).toBe('refresh_token_reused');

    // Another sign-in is another family, untouched.
    const other = await signIn(bea.email);
    expect((await call(instance.url, 'POST', '/token/refresh', { body: { refreshToken: other.refreshToken } })).status).toBe(200);
    expect((await call(instance.url, 'POST', '/token/refresh', { body: { refreshToken: 'A'.repeat(43) } })).status).toBe(401);
  });

  it("concurrent refreshes with one token: exactly one wins, and the family is then revoked", async () => {
    const cleo = await signIn((await signUp('Cleo')).email);
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => call(instance.url, 'POST', '/token/refresh', { body: { refreshToken: cleo.refreshToken } })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 401, 401, 401]);
    const winner = answers.find((a) => a.status === 200)!;
    expect((await call(instance.url, 'POST', '/token/refresh', { body: { refreshToken: winner.body.refreshToken } })).status).toBe(401);
  });

  it('sign-out needs the user, revokes the family (204, twice), and cannot revoke somebody else\'s', async () => {
    const dan = await signUp('Dan');
    const eve = await signUp('Eve');
    const danTokens = await signIn(dan.email);
    const eveTokens = await signIn(eve.email);
    expect((await call(instance.url, 'POST', '/sign-out', { body: { refreshToken: danTokens.refreshToken } })).status).toBe(401);

    // Eve presenting Dan's refresh token changes nothing.
    expect((await call(instance.url, 'POST', '/sign-out', { token: eveTokens.accessToken, body: { refreshToken: danTokens.refreshToken } })).status).toBe(204);
    const stillDan = await call(instance.url, 'POST', '/token/refresh', { body: { refreshToken: danTokens.refreshToken } });
    expect(stillDan.status).toBe(200);

    const out = await call(instance.url, 'POST', '/sign-out', { token: danTokens.accessToken, body: { refreshToken: stillDan.body.refreshToken } });
    expect(out.status).toBe(204);
    expect(out.body).toBeUndefined();
    expect((await call(instance.url, 'POST', '/token/refresh', { body: { refreshToken: stillDan.body.refreshToken } })).status).toBe(401);
    expect((await call(instance.url, 'POST', '/sign-out', { token: danTokens.accessToken, body: { refreshToken: stillDan.body.refreshToken } })).status).toBe(204);
  });

  it('internal profile routes: by id and by ids without email, behind a valid token', async () => {
    const [fay, gus] = [await signUp('Fay', `Profile${run}`, { gender: 'female', interests: 'chess' }), await signUp('Gus', `Profile${run}`)];
    const { accessToken } = await signIn(fay.email);
    expect((await call(instance.url, 'GET', `/users/${gus.id}`)).status).toBe(401);

    const one = await call(instance.url, 'GET', `/users/${fay.id}`, { token: accessToken });
    expect(one.status).toBe(200);
    expect(one.body).toEqual({
      id: fay.id, firstName: 'Fay', lastName: `Profile${run}`, birthday: '1990-04-01', gender: 'female', city: null, interests: 'chess', createdAt: expect.any(String),
    });
    const missing = await call(instance.url, 'GET', '/users/00000000-0000-4000-8000-000000000000', { token: accessToken });
    expect(missing.status).toBe(404);

    const batch = await call(instance.url, 'GET', `/users?ids=${gus.id},00000000-0000-4000-8000-000000000000,${fay.id}`, { token: accessToken });
    expect(batch.status).toBe(200);
    expect(batch.body.items.map((p: { id: string }) => p.id).sort()).toEqual([fay.id, gus.id].sort());
    expect(JSON.stringify(batch.body)).not.toContain('@');
  });

  it('name search: prefixes on last and first name, case-insensitive, paged by cursor in a stable order', async () => {
    const last = `Pager${run}`;
    const names = ['Anna', 'anton', 'Antoine', 'Bruno', 'Ana'];
    const people = await Promise.all(names.map((name) => signUp(name, last)));
    await signUp('Anna', `Other${run}`);
    const { accessToken } = await signIn(people[0]!.email);

    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/users?first=an&last=${last.toLowerCase()}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await call(instance.url, 'GET', query, { token: accessToken });
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      pages.push(page.body.items.map((p: { firstName: string }) => p.firstName));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(pages).toEqual([['Ana', 'Anna'], ['Antoine', 'anton']]);

    const byFirst = await call(instance.url, 'GET', `/users?first=Bru&limit=100`, { token: accessToken });
    expect(byFirst.body.items.map((p: { lastName: string }) => p.lastName)).toContain(last);
    const noOne = await call(instance.url, 'GET', `/users?last=${last}_%25`, { token: accessToken });
    expect(noOne.body).toEqual({ items: [], nextCursor: null });

    const wrongOrder = await call(instance.url, 'GET', `/users?first=an&cursor=${Buffer.from(`last:${people[0]!.id}`).toString('base64url')}`, { token: accessToken });
    expect(wrongOrder.status).toBe(400);
    expect(wrongOrder.body.error.code).toBe('invalid_cursor');
  });

  it('stores names exactly as given, SQL-looking and unicode ones too', async () => {
    const tricky = await signUp("Robert'); DROP TABLE users;--", `Ünïcødé${run} 李 🙂`);
    const { accessToken } = await signIn(tricky.email);
    const me = await call(instance.url, 'GET', '/me', { token: accessToken });
    expect(me.body).toMatchObject({ firstName: "Robert'); DROP TABLE users;--", lastName: `Ünïcødé${run} 李 🙂` });
    const found = await call(instance.url, 'GET', `/users?last=${encodeURIComponent(`ünïcødé${run} 李`)}`, { token: accessToken });
    expect(found.body.items.map((p: { id: string }) => p.id)).toEqual([tricky.id]);
  });
});
