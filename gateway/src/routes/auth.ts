import { defineRoute, path } from '../route-table.js';
import { TIMEOUTS, noParams } from './common.js';
import { ownProfile, refreshBody, signInBody, signOutBody, signUpBody, tokenPair } from './service-schemas.js';

/** `/api/v1/auth/<x>` → auth `/<x>`. The JWKS stays internal: the gateway fetches it through discovery. */
export const authRoutes = [
  defineRoute({
    method: 'POST',
    path: '/api/v1/auth/sign-up',
    service: 'auth',
    auth: 'public',
    params: noParams,
    body: signUpBody,
    upstreamPath: () => path`/sign-up`,
    timeouts: TIMEOUTS.passwordHash,
    docs: {
      summary: 'Create an account',
      description: 'Answers with the new profile; an email already taken → 409 email_taken.',
      responses: { 201: { description: 'the new account', schema: ownProfile } },
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/api/v1/auth/sign-in',
    service: 'auth',
    auth: 'public',
    params: noParams,
    body: signInBody,
    upstreamPath: () => path`/sign-in`,
    timeouts: TIMEOUTS.passwordHash,
    docs: {
      summary: 'Sign in with email and password',
      description: 'A wrong email or password → 401; repeated failures slow down, then 429.',
      responses: { 200: { description: 'an access token (short-lived JWT) and a refresh token', schema: tokenPair } },
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/api/v1/auth/token/refresh',
    service: 'auth',
    auth: 'public',
    params: noParams,
    body: refreshBody,
    upstreamPath: () => path`/token/refresh`,
    timeouts: TIMEOUTS.quick,
    docs: {
      summary: 'Trade a refresh token for a new pair',
      description: 'The refresh token presented stops working; presenting it again revokes its whole session.',
      responses: { 200: { description: 'a new token pair', schema: tokenPair } },
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/api/v1/auth/sign-out',
    service: 'auth',
    auth: 'user',
    params: noParams,
    body: signOutBody,
    upstreamPath: () => path`/sign-out`,
    timeouts: TIMEOUTS.quick,
    docs: { summary: 'Revoke the session of a refresh token', responses: { 204: { description: 'signed out' } } },
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/auth/me',
    service: 'auth',
    auth: 'user',
    params: noParams,
    upstreamPath: () => path`/me`,
    timeouts: TIMEOUTS.quick,
    docs: { summary: "The caller's own profile", responses: { 200: { description: 'the profile, with the email', schema: ownProfile } } },
  }),
];
