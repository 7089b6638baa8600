/**
 * The social network through the public gateway, end to end: real gateway, two auth and two
 * social instances (real processes registered in Consul), real MariaDB and Redis. One user
 * journey (sign-up → sign-in → search → befriend → post → feed → refresh → theft detection →
 * sign-out), then balancing: tokens minted by either auth instance work on every path, calls
 * rotate over both instances of each service, and a SIGTERM to one instance of each mid-run
 * fails no call.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IsolatedStack, type Running } from './support/isolated-stack.js';
import { REPO_ROOT } from './support/processes.js';

const ENTRY = { gateway: 'gateway/src/main.ts', auth: 'auth/src/main.ts', social: 'social/src/main.ts' } as const;

interface Answer {
  status: number;
  body: any;
  servedBy: string | null;
}

describe('the social network through the gateway (real MariaDB, Redis, Consul)', () => {
  const stack = new IsolatedStack(ENTRY, { AUTH_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'), ACCESS_LOG: 'false' });
  const run = randomUUID().slice(0, 8);
  let gateway: Running;
  let auths: Running[];
  let socials: Running[];

  const call = async (method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<Answer> => {
    const response = await fetch(`${gateway.url}${path}`, {
      method,
      headers: {
        ...(options.body !== undefined && { 'content-type': 'application/json' }),
        ...(options.token && { authorization: `Bearer ${options.token}` }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, servedBy: response.headers.get('x-served-by') };
  };

  const signUp = async (firstName: string) => {
    const email = `${firstName.toLowerCase()}.${run}@journey.test`;
    const answer = await call('POST', '/api/v1/auth/sign-up', {
      body: { email, password: `correct horse ${run} battery`, firstName, lastName: `Journey${run}`, birthday: '1990-04-01', city: 'Lyon' },
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    expect(answer.body).not.toHaveProperty('passwordHash');
    return { id: answer.body.id as string, email, password: `correct horse ${run} battery` };
  };
  const signIn = async (user: { email: string; password: string }) => {
    const answer = await call('POST', '/api/v1/auth/sign-in', { body: { email: user.email, password: user.password } });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body as { accessToken: string; refreshToken: string; expiresIn: number };
  };

  beforeAll(async () => {
    execFileSync(process.execPath, ['--import', 'tsx', 'scripts/migrate.ts'], { cwd: REPO_ROOT, stdio: 'pipe' });
    [gateway, auths, socials] = await Promise.all([stack.start('gateway'), stack.startPassing('auth', 2), stack.startPassing('social', 2)]);
  }, 90_000);
  afterAll(() => stack.stopAll());

  it('carries a user journey from sign-up to sign-out', async () => {
    const [alice, bob, carol] = [await signUp('Alice'), await signUp('Bob'), await signUp('Carol')];
    const [aliceTokens, bobTokens, carolTokens] = [await signIn(alice), await signIn(bob), await signIn(carol)];

    const me = await call('GET', '/api/v1/auth/me', { token: aliceTokens.accessToken });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: alice.id, email: alice.email, firstName: 'Alice' });

    const found = await call('GET', `/api/v1/social/users?first=Bo&last=Journey${run}`, { token: aliceTokens.accessToken });
    expect(found.status).toBe(200);
    expect(found.body.items.map((u: { id: string }) => u.id)).toEqual([bob.id]);
    expect(found.body.nextCursor).toBeNull();

    expect((await call('POST', '/api/v1/social/friends/requests', { token: aliceTokens.accessToken, body: { userId: bob.id } })).status).toBe(201);
    const incoming = await call('GET', '/api/v1/social/friends/requests', { token: bobTokens.accessToken });
    expect(incoming.body.items.map((r: { id?: string; userId?: string }) => r.userId ?? r.id)).toContain(alice.id);
    expect((await call('POST', `/api/v1/social/friends/requests/${alice.id}/accept`, { token: bobTokens.accessToken })).status).toBe(200);

    const post = await call('POST', '/api/v1/social/posts', { token: bobTokens.accessToken, body: { text: `hello from bob ${run}` } });
    expect(post.status).toBe(201);
    expect(post.body).toMatchObject({ authorId: bob.id, text: `hello from bob ${run}` });

    const aliceFeed = await call('GET', '/api/v1/social/feed', { token: aliceTokens.accessToken });
    expect(aliceFeed.status).toBe(200);
    expect(aliceFeed.body.items.map((p: { id: string }) => p.id)).toContain(post.body.id);
    const carolFeed = await call('GET', '/api/v1/social/feed', { token: carolTokens.accessToken });
    expect(carolFeed.body.items.map((p: { id: string }) => p.id)).not.toContain(post.body.id);

    // Rotation: the new pair works, the old refresh token does not...
    const rotated = await call('POST', '/api/v1/auth/token/refresh', { body: { refreshToken: aliceTokens.refreshToken } });
    expect(rotated.status).toBe(200);
    expect(rotated.body.refreshToken).not.toBe(aliceTokens.refreshToken);
    // ...and presenting it again is taken for theft: the whole session family is revoked.
    expect((await call('POST', '/api/v1/auth/token/refresh', { body: { refreshToken: aliceTokens.refreshToken } })).status).toBe(401);
    expect((await call('POST', '/api/v1/auth/token/refresh', { body: { refreshToken: rotated.body.refreshToken } })).status).toBe(401);

    expect((await call('POST', '/api/v1/auth/sign-out', { token: bobTokens.accessToken, body: { refreshToken: bobTokens.refreshToken } })).status).toBe(204);
    expect((await call('POST', '/api/v1/auth/token/refresh', { body: { refreshToken: bobTokens.refreshToken } })).status).toBe(401);
  });

  it('accepts tokens from either auth instance on every path, rotates over both instances, and fails no call when one of each stops', async () => {
    const user = await signUp('Dana');
    const friend = await signUp('Eve');
    const seen = { auth: new Set<string>(), social: new Set<string>() };
    const tokens = [];
    for (let i = 0; i < 4; i++) {
      const answer = await call('POST', '/api/v1/auth/sign-in', { body: { email: user.email, password: user.password } });
      expect(answer.status).toBe(200);
      seen.auth.add(answer.servedBy!);
      tokens.push(answer.body.accessToken as string);
    }
    expect(seen.auth).toEqual(new Set(auths.map((a) => a.serviceId)));
    for (const token of tokens) {
      const answer = await call('GET', `/api/v1/social/users/${friend.id}`, { token });
      expect(answer.status).toBe(200);
      seen.social.add(answer.servedBy!);
    }
    expect(seen.social).toEqual(new Set(socials.map((s) => s.serviceId)));

    // A steady stream of calls while one instance of each service stops gracefully.
    const failures: string[] = [];
    let calls = 0;
    let stopping = true;
    const stream = (async () => {
      while (stopping) {
        const token = tokens[calls % tokens.length]!;
        const answers = await Promise.all([
          call('GET', '/api/v1/auth/me', { token }),
          call('GET', '/api/v1/social/feed', { token }),
          call('GET', `/api/v1/social/users/${friend.id}`, { token }),
        ]);
        calls += 1;
        for (const a of answers) if (a.status !== 200) failures.push(`${a.status} ${JSON.stringify(a.body)}`);
      }
    })();
    await stack.waitFor('some calls before the stop', () => calls >= 5);
    await Promise.all([auths[0]!.process.stop('SIGTERM'), socials[0]!.process.stop('SIGTERM')]);
    const after = calls;
    await stack.waitFor('more calls after the stop', () => calls >= after + 10);
    stopping = false;
    await stream;
    expect(failures).toEqual([]);
  });
});
