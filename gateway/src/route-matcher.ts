/**
 * Finds the route of the table a request path belongs to, by express's own matching rules (its
 * router's defaults, which the gateway's routes were written for): case-insensitive, an optional
 * trailing slash, each parameter one segment, percent-decoded. Shared by the HTTP dispatch and the
 * upgrade relay, so a path means the same route on both.
 */
import { match, type MatchFunction } from 'path-to-regexp';
import { HttpError } from '@switchyard/infra';
import type { GatewayRoute } from './route-table.js';

export interface RouteMatch {
  route: GatewayRoute;
  /** Decoded path parameters by name. */
  params: Record<string, string>;
}

interface Candidate {
  route: GatewayRoute;
  /** The lowercased literal start of the route's path (up to its first parameter): a cheap pre-check. */
  prefix: string;
  match: MatchFunction<Partial<Record<string, string | string[]>>>;
}

export class RouteMatcher {
  private readonly byMethod = new Map<string, Candidate[]>();
  /**
   * The routes without parameters, by method and lowercased path: found by one lookup instead of
   * a walk of the table (most of the gateway's traffic goes to a few such paths). Only those no
   * earlier route of the table would match first, so the answer is the walk's.
   */
  private readonly literal = new Map<string, Map<string, GatewayRoute>>();

  constructor(table: readonly GatewayRoute[]) {
    for (const route of table) {
      const candidates = this.byMethod.get(route.method) ?? [];
      candidates.push({
        route,
        prefix: literalPrefix(route.path).toLowerCase(),
        match: match(route.path, { decode: decodeParameter, sensitive: false, trailing: true }),
      });
      this.byMethod.set(route.method, candidates);
    }
    for (const [method, candidates] of this.byMethod) {
      const paths = new Map<string, GatewayRoute>();
      candidates.forEach((candidate, i) => {
        const { path } = candidate.route;
        // Either spelling a request may use (one trailing slash is optional) must reach this route first.
        const shadowed = candidates.slice(0, i).some((earlier) => safeMatch(earlier, path) || safeMatch(earlier, `${path}/`));
        if (!isLiteral(path) || shadowed) return;
        if (!paths.has(candidate.prefix)) paths.set(candidate.prefix, candidate.route);
      });
      this.literal.set(method, paths);
    }
  }

  /**
   * The route for `method` and `path` (no query string), HEAD served by the GET route as express
   * does; undefined when none matches. A parameter that is not valid percent-encoding throws
   * HttpError 400 (express answers it the same).
   */
  find(method: string, path: string): RouteMatch | undefined {
    const served = method === 'HEAD' ? 'GET' : method;
    const candidates = this.byMethod.get(served);
    if (!candidates) return undefined;
    const lower = path.toLowerCase();
    // One trailing slash is optional, as in the walk below (trailing: true).
    const literal = this.literal.get(served)!.get(lower.length > 1 && lower.endsWith('/') ? lower.slice(0, -1) : lower);
    if (literal) return { route: literal, params: {} };
    for (const candidate of candidates) {
      if (!lower.startsWith(candidate.prefix)) continue;
      const result = candidate.match(path);
      if (!result) continue;
      const params: Record<string, string> = {};
      for (const name in result.params) {
        const value = result.params[name];
        if (typeof value === 'string') params[name] = value;
      }
      return { route: candidate.route, params };
    }
    return undefined;
  }

  /** The methods some route serves at `path` (for an OPTIONS answer's Allow), HEAD beside GET. */
  methodsAt(path: string): string[] {
    const methods: string[] = [];
    for (const [method, candidates] of this.byMethod) {
      if (candidates.some((candidate) => safeMatch(candidate, path))) methods.push(method);
    }
    if (methods.includes('GET')) methods.splice(methods.indexOf('GET') + 1, 0, 'HEAD');
    return methods;
  }
}

function safeMatch(candidate: Candidate, path: string): boolean {
  try {
    return candidate.match(path) !== false;
  } catch {
    return false;
  }
}

/** A path without parameters, wildcards or escapes, and without a trailing slash of its own. */
function isLiteral(path: string): boolean {
  return !/[:*{}()\\?+]/.test(path) && !path.endsWith('/');
}

/** The path up to its first parameter or wildcard (`/api/v1/rng/` of `/api/v1/rng/:n`). */
function literalPrefix(path: string): string {
  const at = path.search(/[:*{(]/);
  return at === -1 ? path.replace(/\/$/, '') : path.slice(0, at);
}

/** decodeURIComponent, with malformed escapes a 400 rather than a URIError (a 500). */
function decodeParameter(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    throw new HttpError(400, 'invalid_request', 'a path parameter is not valid percent-encoding');
  }
}
