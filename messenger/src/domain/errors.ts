/**
 * What can go wrong in messenger's domain, by name. The domain knows nothing of HTTP: routes.ts
 * maps each code to a status. The messages are safe to show to the caller.
 */
export type MessengerErrorCode =
  /** No such chat, or the caller is not in it: the same answer, so a chat id leaks nothing. */
  | 'chat_not_found'
  | 'user_not_found'
  | 'cannot_chat_with_self'
  | 'invalid_cursor'
  /** The author used this clientMessageId for a different message (another chat or text). */
  | 'client_message_id_reused';

export class MessengerError extends Error {
  override name = 'MessengerError';
  constructor(
    readonly code: MessengerErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const chatNotFound = () => new MessengerError('chat_not_found', 'no such chat of yours');
export const invalidCursor = () => new MessengerError('invalid_cursor', 'cursor is not valid for this list; start again without it');
