import { HttpError, z } from '@switchyard/infra';
import { describe, expect, it } from 'vitest';
import { defineRoute, path } from './route-table.js';

/** A string parameter route, as `/users/:id` will be: the case that must not escape its route. */
const userRoute = defineRoute({
  method: 'GET',
  path: '/api/v1/users/:id',
  service: 'users',
  params: z.object({ id: z.string().max(200) }),
  upstreamPath: ({ id }) => path`/users/${id}/profile`,
  timeouts: { attemptTimeoutMs: 1_000, deadlineMs: 2_000 },
  auth: 'public',
  docs: { summary: 'a profile' },
});

/** How the upstream request's URL is read on its way out: undici parses it with WHATWG URL. */
const asSent = (upstreamPath: string) => new URL(`http://upstream.internal${upstreamPath}`);

describe('path (upstream path tag)', () => {
  it('keeps the literal parts and encodes each value as one segment', () => {
    expect(path`/users/${'alice'}/profile`).toBe('/users/alice/profile');
    expect(path`/rng/${8}`).toBe('/rng/8');
    expect(path`/api/stats`).toBe('/api/stats');
    expect(path`/users/${'a/b'}`).toBe('/users/a%2Fb');
    expect(path`/files/${'a b'}.${'json'}`).toBe('/files/a%20b.json');
  });

  // Values as express hands them over: already percent-decoded once (`..%2Fadmin` arrives as `../admin`).
  it.each([
    '../admin',
    '../../admin',
    '..%2Fadmin',
    '%2e%2e',
    '%2E%2E%2Fadmin',
    '..\\admin',
    'a/b',
    '?x',
    '#',
    '#/../admin',
    '?/../../admin',
    'a\nb',
    '\t..',
    '...',
    'x%',
  ])('keeps %j inside its own segment of the route it was given to', (id) => {
    const sent = asSent(userRoute.resolveUpstreamPath({ id }));
    expect(sent.search).toBe('');
    expect(sent.hash).toBe('');
    const segments = sent.pathname.split('/');
    expect(segments).toHaveLength(4);
    expect([segments[1], segments[3]]).toEqual(['users', 'profile']);
    expect(decodeURIComponent(segments[2]!)).toBe(id);
  });

  it.each(['.', '..', ''])('refuses the parameter %j with a 400 (a URL parser would resolve it away)', (id) => {
    const resolve = () => userRoute.resolveUpstreamPath({ id });
    expect(resolve).toThrow(HttpError);
    expect(resolve).toThrow(expect.objectContaining({ status: 400, message: expect.stringMatching(/must not be/) }));
  });

  it('still validates before building: a schema failure is a ZodError', () => {
    expect(() => userRoute.resolveUpstreamPath({ id: 'x'.repeat(201) })).toThrow(z.ZodError);
  });

  it('is the only way to make an upstream path: a plain string does not type-check', () => {
    defineRoute({
      method: 'GET',
      path: '/api/v1/users/:id',
      service: 'users',
      params: z.object({ id: z.string() }),
      // @ts-expect-error an unencoded template string is not an UpstreamPath (tsc fails if this compiles)
      upstreamPath: ({ id }) => `/users/${id}`,
      timeouts: { attemptTimeoutMs: 1_000, deadlineMs: 2_000 },
      auth: 'public',
      docs: { summary: 'a profile' },
    });
  });
});

describe('per-route body limits', () => {
  const route = (method: 'GET' | 'POST' | 'DELETE', extra: { body?: z.ZodType; maxBodySize?: string } = {}) =>
    defineRoute({
      method,
      path: '/x',
      service: 'x',
      auth: 'public',
      params: z.object({}),
      upstreamPath: () => path`/x`,
      timeouts: { attemptTimeoutMs: 1_000, deadlineMs: 2_000 },
      docs: { summary: 'x' },
      ...extra,
    });

  it('keeps room for an upload on a POST forwarded as is, and little anywhere else', () => {
    expect(route('POST').maxBodySize).toBe('1mb');
    expect(route('POST', { body: z.object({ a: z.string() }) }).maxBodySize).toBe('16kb');
    expect(route('GET').maxBodySize).toBe('16kb');
    expect(route('DELETE').maxBodySize).toBe('16kb');
  });

  it('takes the limit a route declares', () => {
    expect(route('POST', { body: z.object({}), maxBodySize: '2kb' }).maxBodySize).toBe('2kb');
  });
});
