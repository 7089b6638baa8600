/**
 * With its database unreachable, auth answers 503 JSON quickly (a retryable condition, not a 500
 * defect) on every route that needs it, and stays out of Consul (its readiness probe fails). The
 * database here is an address nothing listens on; the shared MariaDB is left alone.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IsolatedStack, type Running } from '../../test/support/isolated-stack.js';
import { call, freshAddress } from './support/auth-stack.js';

describe('auth with its database unreachable (real process)', () => {
  const stack = new IsolatedStack({ auth: 'auth/src/main.ts' }, {
    MYSQL_URL: 'mysql://root@127.0.0.1:1/switchyard',
    AUTH_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    ACCESS_LOG: 'false',
  });
  let instance: Running;

  beforeAll(async () => {
    instance = await stack.start('auth');
  }, 60_000);
  afterAll(() => stack.stopAll());

  it.each([
    ['POST', '/sign-up', { email: 'x@outage.auth.test', password: 'correct horse battery', firstName: 'O', lastName: 'Utage', birthday: '1990-01-01' }],
    ['POST', '/sign-in', { email: 'x@outage.auth.test', password: 'whatever' }],
    ['POST', '/token/refresh', { refreshToken: 'A'.repeat(43) }],
    ['GET', '/.well-known/jwks.json', undefined],
  ])('%s %s → 503 JSON within 2 s', async (method, path, body) => {
    const answer = await call(instance.url, method, path, { body, from: freshAddress() });
    expect(answer.status, JSON.stringify(answer.body)).toBe(503);
    expect(answer.body.error).toEqual({ code: 'dependency_unavailable', message: 'mysql unavailable' });
    expect(answer.ms).toBeLessThan(2_000);
  });

  it('reports not ready, so Consul never routes to it', async () => {
    const ready = await call(instance.url, 'GET', '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.checks).toMatchObject({ mysql: expect.stringMatching(/^failing/), signing_keys: expect.stringMatching(/^failing/) });
  });
});
