/**
 * The edge's token check for WebSocket upgrades on routes with auth 'user'. HTTP routes use infra's
 * `requireUser(ctx.tokenVerifier())` middleware, the one every service uses; an upgrade request
 * has no express around it, so this does the same for it: the same header rules, the same
 * verifier (auth's JWKS cached locally: no call to auth per request), the same 401 codes and
 * challenge. Either way the Authorization header is forwarded unchanged: the service verifies
 * the token again, trusting no network.
 */
import { HttpError, type AuthenticatedUser, type TokenVerifier } from '@switchyard/infra';

/** What the check needs of infra's TokenVerifier: verify() throws HttpError(401, code), or 503. */
export type AccessTokenVerifier = Pick<TokenVerifier, 'verify'>;

/** RFC 6750's b64token after the scheme, as infra's requireUser reads it. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The caller named by an `Authorization` header value; throws HttpError(401) (or the verifier's 503). */
export async function authenticate(verifier: AccessTokenVerifier, authorization: string | undefined): Promise<AuthenticatedUser> {
  if (!authorization || authorization.trim() === '') {
    throw new HttpError(401, 'missing_token', 'this route needs a signed-in user: send Authorization: Bearer <access token>');
  }
  const token = BEARER.exec(authorization)?.[1];
  if (!token) throw new HttpError(401, 'invalid_token', "the Authorization header must be 'Bearer <access token>'");
  return verifier.verify(token);
}

/** RFC 6750 §3: the WWW-Authenticate value for a 401 (the scheme, and why a token given failed); none otherwise. */
export function challengeFor(error: unknown): string | undefined {
  if (!(error instanceof HttpError) || error.status !== 401) return undefined;
  return error.code === 'missing_token' ? 'Bearer realm="switchyard"' : 'Bearer realm="switchyard", error="invalid_token"';
}
