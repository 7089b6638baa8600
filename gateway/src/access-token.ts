/**
 * The edge's token check for WebSocket upgrades on routes with auth 'user'. HTTP routes use
 * infra's bearerToken with remembered verdicts (dispatch.ts, verified-tokens.ts); this does the
 * same for an upgrade request: the same header rules, the same
 * verifier (auth's JWKS cached locally: no call to auth per request), the same 401 codes and
 * challenge. Browsers cannot set headers on a WebSocket, so without an Authorization header the
 * token may come as the `access_token` query parameter (infra's upgradeAccessToken: the one rule
 * the services apply too). Either way the header and the query are forwarded unchanged (the
 * service verifies the token again, trusting no network) and never logged.
 */
import { HttpError, upgradeAccessToken, type AuthenticatedUser, type TokenVerifier } from '@switchyard/infra';

/** What the check needs of infra's TokenVerifier: verify() throws HttpError(401, code), or 503. */
export type AccessTokenVerifier = Pick<TokenVerifier, 'verify'>;

/**
 * The caller named by an upgrade's `Authorization` header, else by its `access_token` query
 * parameter; throws HttpError(401) (or the verifier's 503) before any upstream is chosen.
 */
export async function authenticate(
  verifier: AccessTokenVerifier,
  authorization: string | undefined,
  query: URLSearchParams = new URLSearchParams(),
): Promise<AuthenticatedUser> {
  return verifier.verify(upgradeAccessToken(authorization, query));
}

/** RFC 6750 §3: the WWW-Authenticate value for a 401 (the scheme, and why a token given failed); none otherwise. */
export function challengeFor(error: unknown): string | undefined {
  if (!(error instanceof HttpError) || error.status !== 401) return undefined;
  return error.code === 'missing_token' ? 'Bearer realm="switchyard"' : 'Bearer realm="switchyard", error="invalid_token"';
}
