/**
 * Login throttling through real auth processes and the real Redis: failures per email and per
 * client address slow down, then answer 429 too_many_attempts with Retry-After, counted across
 * instances. Low limits here (4 per email, 6 per address) keep the test short.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Running } from '../../test/support/isolated-stack.js';
import { AuthTestStack, call, freshAddress } from './support/auth-stack.js';

describe('login throttling (real processes, Redis shared by two instances)', () => {
  const auth = new AuthTestStack({ AUTH_LOGIN_FAILURES_PER_EMAIL: '4', AUTH_LOGIN_FAILURES_PER_CLIENT: '6', AUTH_LOGIN_WINDOW_SECONDS: '120' });
  const run = auth.run;
  const password = 'correct horse battery staple';
  let instances: Running[];
  let people = 0;

  const signUp = async () => {
    people += 1;
    const email = `throttled.${people}@${run}.auth.test`;
    const answer = await call(instances[0]!.url, 'POST', '/sign-up', { body: { email, password, firstName: 'T', lastName: 'Throttled', birthday: '1990-01-01' } });
    expect(answer.status).toBe(201);
    return email;
  };
  /** Alternates instances: the counts must add up in Redis, not per process. */
  const signIn = (index: number, email: string, pw: string, from: string) =>
    call(instances[index % instances.length]!.url, 'POST', '/sign-in', { body: { email, password: pw }, from });

  beforeAll(async () => {
    await auth.prepare();
    instances = await auth.stack.startPassing('auth', 2);
  }, 60_000);
  afterAll(() => auth.teardown());

  it('per email: slows down after a few failures, then 429 with Retry-After even for the right password', async () => {
    const email = await signUp();
    const failures = [];
    for (let i = 0; i < 4; i++) failures.push(await signIn(i, email, 'wrong password', freshAddress()));
    expect(failures.map((f) => f.status)).toEqual([401, 401, 401, 401]);
    // Attempts 3 and 4 of 4 wait 250 and 500 ms before the password is even checked.
    expect(failures[3]!.ms).toBeGreaterThanOrEqual(450);

    const refused = await signIn(4, email, password, freshAddress());
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ error: { code: 'too_many_attempts', message: expect.any(String) } });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(120);
    expect((await signIn(5, email, password, freshAddress())).status).toBe(429);
  });

  it('per client address: failures over many emails from one address end in 429 for that address only', async () => {
    const address = freshAddress();
    const victim = await signUp();
    for (let i = 0; i < 6; i++) {
      expect((await signIn(i, `nobody.${i}@${run}.auth.test`, 'guess', address)).status).toBe(401);
    }
    expect((await signIn(6, victim, password, address)).status).toBe(429);
    expect((await signIn(7, victim, password, freshAddress())).status).toBe(200);
  });

  it('a successful sign-in clears the email\'s failures', async () => {
    const email = await signUp();
    for (let i = 0; i < 3; i++) expect((await signIn(i, email, 'typo', freshAddress())).status).toBe(401);
    expect((await signIn(3, email, password, freshAddress())).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await signIn(i, email, 'typo', freshAddress())).status).toBe(401);
    expect((await signIn(3, email, password, freshAddress())).status).toBe(200);
  });

  it('does not believe X-Forwarded-For from a peer it does not trust', async () => {
    // This instance trusts nobody: every call from here is the same client (127.0.0.1), whatever
    // the header claims, so rotating the header does not escape the per-address limit.
    const strict = await auth.stack.start('auth', { TRUSTED_PROXIES: 'none' });
    // Passing = its Redis connection is up: before that it counts in memory (the insurance limiter).
    await auth.stack.waitPassing('auth', (ids) => ids.includes(strict.serviceId));
    for (let i = 0; i < 6; i++) {
      expect((await call(strict.url, 'POST', '/sign-in', { body: { email: `x${i}.strict@${run}.auth.test`, password: 'guess' }, from: freshAddress() })).status).toBe(401);
    }
    const refused = await call(strict.url, 'POST', '/sign-in', { body: { email: `y.strict@${run}.auth.test`, password: 'guess' }, from: freshAddress() });
    expect(refused.status).toBe(429);
  });
});
