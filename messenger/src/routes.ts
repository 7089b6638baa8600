import {
  HttpError,
  currentUser,
  requireUser,
  type NextFunction,
  type Request,
  type Response,
  type Router,
  type TokenVerifier,
} from '@switchyard/infra';
import { chatIdParams, chatPageQuery, markReadBody, messagePageQuery, openChatBody, sendMessageBody } from './api.js';
import type { Chats } from './domain/chats.js';
import { MessengerError, type MessengerErrorCode } from './domain/errors.js';
import type { Messages } from './domain/messages.js';
import type { Caller } from './domain/users.js';

export interface MessengerRouteDeps {
  verifier: TokenVerifier;
  chats: Chats;
  messages: Messages;
}

const STATUS: Record<MessengerErrorCode, number> = {
  cannot_chat_with_self: 400,
  invalid_cursor: 400,
  chat_not_found: 404,
  user_not_found: 404,
  client_message_id_reused: 409,
};

/**
 * The caller: the user of the verified token, and the token as sent, forwarded to auth for user
 * lookups. Which user a route acts for comes only from here, never from the request's parameters.
 */
function callerOf(req: Request, res: Response): Caller {
  return { id: currentUser(res).id, credentials: req.headers.authorization! };
}

/**
 * auth issues lower-case uuids and compares them byte for byte: an upper-case spelling of an id
 * (valid to the schema) is taken as the same user.
 */
const userId = (id: string) => id.toLowerCase();

/**
 * messenger's HTTP shapes: validate (the api.ts schemas; a ZodError becomes a 400 naming the
 * field), call the domain, answer. Every route verifies the caller's token itself: a request that
 * reaches this instance directly is authenticated like one through the gateway.
 */
export function messengerRoutes(deps: MessengerRouteDeps): (router: Router) => void {
  const { chats, messages } = deps;
  const user = requireUser(deps.verifier);
  // Answers about one person's chats are theirs alone: no shared cache may keep them.
  const personal = (res: Response) => res.setHeader('cache-control', 'private, no-store');

  return (router) => {
    router.post('/chats', user, async (req, res) => {
      const { peerId } = openChatBody.parse(req.body);
      const { chat, created } = await chats.open(callerOf(req, res), userId(peerId));
      personal(res).status(created ? 201 : 200).json(chat);
    });

    router.get('/chats', user, async (req, res) => {
      const { cursor, limit } = chatPageQuery.parse(req.query);
      personal(res).json(await chats.list(currentUser(res).id, cursor, limit));
    });

    router.post('/chats/:id/messages', user, async (req, res) => {
      const { id } = chatIdParams.parse(req.params);
      const { text, clientMessageId } = sendMessageBody.parse(req.body);
      const { message, created } = await messages.send(currentUser(res).id, id, text, clientMessageId);
      personal(res).status(created ? 201 : 200).json(message);
    });

    router.get('/chats/:id/messages', user, async (req, res) => {
      const { id } = chatIdParams.parse(req.params);
      const query = messagePageQuery.parse(req.query);
      personal(res).json(await messages.page(currentUser(res).id, id, query));
    });

    router.post('/chats/:id/read', user, async (req, res) => {
      const { id } = chatIdParams.parse(req.params);
      const { upTo } = markReadBody.parse(req.body);
      await messages.markRead(currentUser(res).id, id, upTo);
      res.status(204).end();
    });

    router.use(domainErrors);
  };
}

/** Domain errors to HTTP answers; everything else goes on to the platform's handler (zod → 400, stores → 503). */
function domainErrors(error: unknown, _req: Request, _res: Response, next: NextFunction): void {
  if (error instanceof MessengerError) {
    next(new HttpError(STATUS[error.code], error.code, error.message));
    return;
  }
  next(error);
}
