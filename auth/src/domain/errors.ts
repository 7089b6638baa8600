/**
 * What can go wrong in the domain, by name. The domain knows nothing of HTTP: routes.ts maps each
 * code to a status (409, 401, 429...). The messages are safe to show to the caller.
 */
export type AuthErrorCode =
  | 'email_taken'
  | 'invalid_credentials'
  | 'invalid_refresh_token'
  | 'too_many_attempts'
  | 'user_not_found'
  | 'invalid_cursor';

export class AuthError extends Error {
  override name = 'AuthError';
  constructor(
    readonly code: AuthErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A sign-in refused by the throttle; `retryAfterMs` tells when the caller may try again. */
export class TooManyAttempts extends AuthError {
  constructor(readonly retryAfterMs: number) {
    super('too_many_attempts', 'too many failed sign-in attempts; try again later');
  }
}

/**
 * The same error for an unknown email and a wrong password (and the same time to get it, see
 * accounts.ts): telling them apart would let anyone test which emails have accounts.
 */
export const invalidCredentials = () => new AuthError('invalid_credentials', 'wrong email or password');

/** One error for unknown, expired, rotated and revoked refresh tokens: the client signs in again. */
export const invalidRefreshToken = (message = 'the refresh token is not valid; sign in again') =>
  new AuthError('invalid_refresh_token', message);
