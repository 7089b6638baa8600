import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { exportJWK, generateKeyPair, SignJWT, type JSONWebKeySet } from 'jose';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorHandler } from '../server/error-handler.js';
import { bearerChallenge, bearerToken, currentUser, requireUser } from './require-user.js';
import { HttpError } from '../server/http-error.js';
import { TokenVerifier } from './token-verifier.js';

let server: Server;
let base: string;
let validToken: string;

beforeAll(async () => {
  const pair = await generateKeyPair('EdDSA');
  const keys: JSONWebKeySet = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'EdDSA', use: 'sig' }] };
  validToken = await new SignJWT({ sid: 'session-9' })
    .setProtectedHeader({ alg: 'EdDSA', kid: 'k1' })
    .setSubject('user-9')
    .setIssuer('switchyard-auth')
    .setAudience('switchyard')
    .setIssuedAt()
    .setExpirationTime('15m')
    .sign(pair.privateKey);
  const verifier = new TokenVerifier(async () => keys);
  const keysDown = new TokenVerifier(async () => {
    throw new Error('auth is down');
  });

  const app = express();
  app.get('/me', requireUser(verifier), (_req, res) => {
    res.json(currentUser(res));
  });
  app.get('/keys-down', requireUser(keysDown), (_req, res) => {
    res.json(currentUser(res));
  });
  app.get('/forgot-the-middleware', (_req, res) => {
    res.json(currentUser(res));
  });
  app.use(errorHandler(pino({ level: 'silent' })));
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers });

describe('requireUser', () => {
  it('lets a valid bearer token through and exposes the caller', async () => {
    const response = await get('/me', { authorization: `Bearer ${validToken}` });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ id: 'user-9', sessionId: 'session-9' });
  });

  it('accepts the scheme in any case', async () => {
    expect((await get('/me', { authorization: `bearer ${validToken}` })).status).toBe(200);
  });

  it('answers 401 missing_token JSON with a Bearer challenge when there is no Authorization header', async () => {
    const response = await get('/me');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="switchyard"');
    expect(await response.json()).toMatchObject({ error: { code: 'missing_token' } });
  });

  it.each([
    ['another scheme', 'Basic dXNlcjpwYXNz'],
    ['a bearer with nothing after it', 'Bearer '],
    ['two tokens', `Bearer ${validToken} ${validToken}`],
    ['a garbage token', 'Bearer abc.def.ghi'],
  ])('answers 401 invalid_token for %s', async (_what, authorization) => {
    const response = await get('/me', { authorization });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(await response.json()).toMatchObject({ error: { code: 'invalid_token' } });
  });

  it('never takes a client-supplied identity header for a user', async () => {
    const response = await get('/me', { 'x-user-id': 'admin', 'x-user': 'admin', 'x-authenticated-user': 'admin' });
    expect(response.status).toBe(401);
  });

  it('answers 503 auth_unavailable JSON, not 500, when the keys cannot be fetched', async () => {
    const response = await get('/keys-down', { authorization: `Bearer ${validToken}` });
    expect(response.status).toBe(503);
    expect(response.headers.get('www-authenticate')).toBeNull();
    expect(await response.json()).toMatchObject({ error: { code: 'auth_unavailable' } });
  });

  it('fails loudly (500) when a route reads currentUser without requireUser', async () => {
    const response = await get('/forgot-the-middleware');
    expect(response.status).toBe(500);
  });
});

describe('bearerToken and bearerChallenge (the same rules outside express)', () => {
  it('reads the token as requireUser does', () => {
    expect(bearerToken('Bearer abc.def-ghi_jkl')).toBe('abc.def-ghi_jkl');
    expect(() => bearerToken(undefined)).toThrow(expect.objectContaining({ status: 401, code: 'missing_token' }));
    expect(() => bearerToken('Basic x')).toThrow(expect.objectContaining({ status: 401, code: 'invalid_token' }));
  });

  it('challenges 401s only', () => {
    expect(bearerChallenge(new HttpError(401, 'missing_token', 'm'))).toBe('Bearer realm="switchyard"');
    expect(bearerChallenge(new HttpError(401, 'token_expired', 'm'))).toBe('Bearer realm="switchyard", error="invalid_token"');
    expect(bearerChallenge(new HttpError(503, 'auth_unavailable', 'm'))).toBeUndefined();
  });
});
