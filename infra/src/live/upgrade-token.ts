/**
 * The access token of a WebSocket upgrade: the `Authorization: Bearer` header when there is one
 * (non-browser clients), else the `access_token` query parameter (browsers cannot set headers on
 * a WebSocket). The gateway and the services read it by this one rule, so both hops
 * authenticate the same token. Pure; the token is never logged by anyone who calls this.
 */
import { bearerToken } from '../auth/require-user.js';
import { HttpError } from '../server/http-error.js';

/** The query parameter browsers put the token in. */
export const ACCESS_TOKEN_PARAM = 'access_token';

/** RFC 6750's b64token: what a bearer token may hold, in the query as in the header. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * The token to verify; throws HttpError 401 `missing_token` when neither carries one, and
 * `invalid_token` when the one given cannot be a token (a bad header, a repeated parameter).
 */
export function upgradeAccessToken(authorization: string | undefined, query: URLSearchParams): string {
  if (authorization !== undefined && authorization.trim() !== '') return bearerToken(authorization);
  const values = query.getAll(ACCESS_TOKEN_PARAM);
  if (values.length === 0 || (values.length === 1 && values[0] === '')) {
    throw new HttpError(401, 'missing_token', `this route needs a signed-in user: send Authorization: Bearer <access token>, or the ${ACCESS_TOKEN_PARAM} query parameter`);
  }
  // Two tokens: which one counts would depend on who reads the query. Neither does.
  if (values.length > 1) throw new HttpError(401, 'invalid_token', `${ACCESS_TOKEN_PARAM} given more than once`);
  if (!B64TOKEN.test(values[0]!)) throw new HttpError(401, 'invalid_token', `${ACCESS_TOKEN_PARAM} is not an access token`);
  return values[0]!;
}

/** The path and query of a request target (`/ws?since=1`). */
export function splitTarget(target: string | undefined): { path: string; query: URLSearchParams } {
  const raw = target ?? '/';
  const at = raw.indexOf('?');
  // URLSearchParams never throws: malformed escapes are kept as they are, for validate() to refuse.
  return at === -1 ? { path: raw, query: new URLSearchParams() } : { path: raw.slice(0, at), query: new URLSearchParams(raw.slice(at + 1)) };
}

/** `query` without the token: what the service's own hooks see, so they cannot log it by accident. */
export function withoutToken(query: URLSearchParams): URLSearchParams {
  const copy = new URLSearchParams(query);
  copy.delete(ACCESS_TOKEN_PARAM);
  return copy;
}
