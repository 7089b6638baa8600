import { HttpError, z } from '@switchyard/infra';
import { describe, expect, it } from 'vitest';
import { RouteMatcher } from './route-matcher.js';
import { match } from 'path-to-regexp';
import { defineRoute, path, type GatewayRoute, type HttpMethod } from './route-table.js';

const route = (method: HttpMethod, routePath: string) =>
  defineRoute({
    method,
    path: routePath,
    service: 'things',
    params: z.object({}).passthrough(),
    upstreamPath: () => path`/things`,
    timeouts: { attemptTimeoutMs: 1_000, deadlineMs: 2_000 },
    auth: 'public',
    docs: { summary: routePath },
  });

/** The route express's router would take: the first of the table whose path matches. */
function firstMatching(routes: GatewayRoute[], requestPath: string): GatewayRoute | undefined {
  return routes.find((candidate) => match(candidate.path, { sensitive: false, trailing: true })(requestPath) !== false);
}

const table = [
  route('GET', '/api/v1/users/:id'),
  route('GET', '/api/v1/users/:id/posts'),
  route('POST', '/api/v1/users/:id/posts'),
  route('GET', '/api/v1/feed'),
];
const matcher = new RouteMatcher(table);

describe('RouteMatcher (express router rules)', () => {
  it('finds the route and decodes its parameters, each one segment', () => {
    expect(matcher.find('GET', '/api/v1/users/alice')).toEqual({ route: table[0], params: { id: 'alice' } });
    expect(matcher.find('GET', '/api/v1/users/a%2Fb/posts')).toEqual({ route: table[1], params: { id: 'a/b' } });
    expect(matcher.find('POST', '/api/v1/users/bob/posts')?.route).toBe(table[2]);
    expect(matcher.find('GET', '/api/v1/users/a/b')).toBeUndefined();
  });

  it('is case-insensitive, takes an optional trailing slash, and serves HEAD by the GET route', () => {
    expect(matcher.find('GET', '/API/V1/Feed')?.route).toBe(table[3]);
    expect(matcher.find('GET', '/api/v1/feed/')?.route).toBe(table[3]);
    expect(matcher.find('HEAD', '/api/v1/users/x')?.route).toBe(table[0]);
    expect(matcher.find('GET', '/api/v1/feeds')).toBeUndefined();
  });

  it('leaves other methods and paths to someone else', () => {
    expect(matcher.find('DELETE', '/api/v1/users/x')).toBeUndefined();
    expect(matcher.find('OPTIONS', '/api/v1/feed')).toBeUndefined();
    expect(matcher.find('GET', '/')).toBeUndefined();
  });

  it('refuses a parameter that is not valid percent-encoding with a 400, not a URIError', () => {
    let thrown: unknown;
    try {
      matcher.find('GET', '/api/v1/users/%E0%A4%A');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(HttpError);
    expect(thrown).toMatchObject({ status: 400, code: 'invalid_request' });
  });

  it('finds a route without parameters as the walk of the table would: the first route of the table that matches wins', () => {
    const routes = [
      route('GET', '/api/v1/items/new'),
      route('GET', '/api/v1/items/:id'),
      route('GET', '/api/v1/items/latest'),
      route('GET', '/api/v1/items/new'),
      route('POST', '/api/v1/items/latest'),
    ];
    const items = new RouteMatcher(routes);
    expect(items.find('GET', '/api/v1/items/new')).toEqual({ route: routes[0], params: {} });
    expect(items.find('HEAD', '/API/v1/Items/NEW/')).toEqual({ route: routes[0], params: {} });
    // Written after a route with a parameter that matches it: express never reaches it, nor do we.
    expect(items.find('GET', '/api/v1/items/latest')).toEqual({ route: routes[1], params: { id: 'latest' } });
    expect(items.find('POST', '/api/v1/items/latest/')).toEqual({ route: routes[4], params: {} });
    // One optional trailing slash, no more; nothing but the literal path itself.
    expect(items.find('GET', '/api/v1/items/new//')).toBeUndefined();
    expect(items.find('POST', '/api/v1/items/latest/x')).toBeUndefined();
    expect(items.find('POST', '/api/v1/items/lates')).toBeUndefined();
    // Whatever the table and the spelling, the route is the first one express's matching takes.
    const tricky = [
      route('GET', '/api/v1/x/'),
      route('GET', '/api/v1/x'),
      route('GET', '/api/v1/y{/:page}'),
      route('GET', '/api/v1/y'),
      route('GET', '/api/v1/z'),
      route('GET', '/api/v1/:any'),
      route('GET', '/API/v1/Upper'),
    ];
    const trickyMatcher = new RouteMatcher(tricky);
    for (const spelling of ['/api/v1/x', '/api/v1/x/', '/api/v1/x//', '/api/v1/y', '/api/v1/y/', '/api/v1/y/2', '/api/v1/Z/', '/api/v1/upper', '/api/v1/w']) {
      expect(trickyMatcher.find('GET', spelling)?.route, spelling).toBe(firstMatching(tricky, spelling));
    }
    // Every answer has parameters of its own: a caller adding to them changes no other answer.
    const first = items.find('GET', '/api/v1/items/new')!;
    first.params.extra = 'x';
    expect(items.find('GET', '/api/v1/items/new')!.params).toEqual({});
  });

  it('lists the methods a path takes, for an OPTIONS answer', () => {
    expect(matcher.methodsAt('/api/v1/users/x/posts')).toEqual(['GET', 'HEAD', 'POST']);
    expect(matcher.methodsAt('/api/v1/nothing')).toEqual([]);
  });
});
