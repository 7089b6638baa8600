import type { RequestHandler, Response } from 'express';
import { HttpError } from '../server/http-error.js';
import type { AuthenticatedUser, TokenVerifier } from './token-verifier.js';

/** RFC 6750's b64token: the characters a bearer token may hold. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * Lets a request through only with a valid access token in `Authorization: Bearer <token>`,
 * verified by this process itself (services do not trust the network); the caller is then
 * `currentUser(res)`. Identity headers a client may send (x-user-id and the like) are never read.
 * A refusal is the verifier's HttpError (401 JSON with `WWW-Authenticate`, or 503).
 */
export function requireUser(verifier: TokenVerifier): RequestHandler {
  return (req, res, next) => {
    let token: string;
    try {
      token = bearerToken(req.headers.authorization);
    } catch (error) {
      challenge(res, error);
      next(error);
      return;
    }
    verifier.verify(token).then(
      (user) => {
        res.locals.user = user;
        next();
      },
      (error: unknown) => {
        challenge(res, error);
        next(error);
      },
    );
  };
}

/** The caller of a route behind requireUser. */
export function currentUser(res: Response): AuthenticatedUser {
  const user = res.locals.user as AuthenticatedUser | undefined;
  if (!user) {
    // A programming error (the route forgot requireUser), not the client's: fail loudly.
    throw new Error('currentUser(res) on a route without requireUser(verifier) in front of it');
  }
  return user;
}

/**
 * The token of an `Authorization: Bearer <token>` header value; throws HttpError 401
 * (`missing_token` without a header, `invalid_token` for another shape). For code outside
 * express (e.g. a WebSocket upgrade) that must read the header exactly as requireUser does.
 */
export function bearerToken(header: string | undefined): string {
  if (!header || header.trim() === '') {
    throw new HttpError(401, 'missing_token', 'this route needs a signed-in user: send Authorization: Bearer <access token>');
  }
  const match = BEARER.exec(header);
  if (!match) throw new HttpError(401, 'invalid_token', "the Authorization header must be 'Bearer <access token>'");
  return match[1]!;
}

/** RFC 6750 §3: the WWW-Authenticate value for a 401 (the scheme, and why a given token failed); undefined otherwise. */
export function bearerChallenge(error: unknown): string | undefined {
  if (!(error instanceof HttpError) || error.status !== 401) return undefined;
  return error.code === 'missing_token' ? 'Bearer realm="switchyard"' : 'Bearer realm="switchyard", error="invalid_token"';
}

function challenge(res: Response, error: unknown): void {
  const value = bearerChallenge(error);
  if (value && !res.headersSent) res.setHeader('WWW-Authenticate', value);
}
