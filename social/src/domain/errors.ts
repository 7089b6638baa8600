/**
 * What can go wrong in social's domain, by name. The domain knows nothing of HTTP: routes.ts maps
 * each code to a status (400, 404, 409). The messages are safe to show to the caller.
 */
export type SocialErrorCode =
  | 'cannot_befriend_self'
  | 'user_not_found'
  | 'already_friends'
  | 'request_pending'
  | 'request_not_found'
  | 'not_friends'
  | 'post_not_found'
  | 'invalid_cursor'
  /** The pair changed under us several times in a row (a real contest): the caller may retry. */
  | 'conflict';

export class SocialError extends Error {
  override name = 'SocialError';
  constructor(
    readonly code: SocialErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const invalidCursor = () => new SocialError('invalid_cursor', 'cursor is not valid for this list; start again without it');
