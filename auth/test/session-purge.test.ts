/**
 * The session purge in a real auth process on the real MariaDB: refresh tokens past their expiry
 * (and the kept margin) are deleted, then the sessions they leave empty; live sessions and their
 * tokens are untouched and keep refreshing. The purge runs every second here, with no margin.
 */
import { createHash } from 'node:crypto';
import { toSqlTime } from '@switchyard/infra';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Running } from '../../test/support/isolated-stack.js';
import { waitFor } from '../../test/support/wait.js';
import { AuthTestStack, call, freshAddress } from './support/auth-stack.js';

describe('auth session purge (real process, MariaDB)', () => {
  const auth = new AuthTestStack({ AUTH_SESSION_PURGE_INTERVAL_SECONDS: '1', AUTH_EXPIRED_TOKEN_RETENTION_SECONDS: '0' });
  let instance: Running;
  const password = 'correct horse battery staple';

  beforeAll(async () => {
    await auth.prepare();
    [instance] = await auth.stack.startPassing('auth', 1);
  }, 60_000);
  afterAll(() => auth.teardown());

  const sessionOf = async (refreshToken: string): Promise<string> => {
    const hash = createHash('sha256').update(refreshToken, 'utf8').digest();
    const [[row]] = (await auth.db().query('SELECT session_id FROM refresh_tokens WHERE token_hash = ?', [hash])) as any;
    return row.session_id as string;
  };
  const count = async (sql: string, id: string): Promise<number> => {
    const [[row]] = (await auth.db().query(sql, [id])) as any;
    return Number(row.n);
  };

  it('deletes expired refresh tokens and the sessions they leave empty, and nothing live', async () => {
    const email = `purge.${auth.run}@auth.test`;
    const signedUp = await call(instance.url, 'POST', '/sign-up', { body: { email, password, firstName: 'Pia', lastName: 'Purge', birthday: '1990-04-01' } });
    expect(signedUp.status, JSON.stringify(signedUp.body)).toBe(201);
    const signIn = async () => {
      const answer = await call(instance.url, 'POST', '/sign-in', { body: { email, password }, from: freshAddress() });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      return answer.body as { refreshToken: string };
    };
    // Session A: signed in, refreshed once (a rotated token and its successor), then expired.
    const a = await signIn();
    const refreshed = await call(instance.url, 'POST', '/token/refresh', { body: { refreshToken: a.refreshToken } });
    expect(refreshed.status).toBe(200);
    const sessionA = await sessionOf(a.refreshToken);
    // Session B: live.
    const b = await signIn();
    const sessionB = await sessionOf(b.refreshToken);
    expect(await count('SELECT COUNT(*) AS n FROM refresh_tokens WHERE session_id = ?', sessionA)).toBe(2);

    await auth.db().query('UPDATE refresh_tokens SET expires_at = ? WHERE session_id = ?', [toSqlTime(Date.now() - 60_000), sessionA]);
    await waitFor('session A purged', async () => (await count('SELECT COUNT(*) AS n FROM sessions WHERE id = ?', sessionA)) === 0, { timeoutMs: 15_000 });
    expect(await count('SELECT COUNT(*) AS n FROM refresh_tokens WHERE session_id = ?', sessionA)).toBe(0);

    // B is untouched and still refreshes; A's tokens are unknown now: refused the same as expired ones.
    expect(await count('SELECT COUNT(*) AS n FROM sessions WHERE id = ?', sessionB)).toBe(1);
    expect(await count('SELECT COUNT(*) AS n FROM refresh_tokens WHERE session_id = ?', sessionB)).toBe(1);
    expect((await call(instance.url, 'POST', '/token/refresh', { body: { refreshToken: b.refreshToken } })).status).toBe(200);
    const stale = await call(instance.url, 'POST', '/token/refresh', { body: { refreshToken: (refreshed.body as { refreshToken: string }).refreshToken } });
    expect(stale.status).toBe(401);
  });
});
