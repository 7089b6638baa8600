import type { ServiceContext, ServiceParts, z } from '@switchyard/infra';
import type { messengerConfig } from './config.js';
import { Chats } from './domain/chats.js';
import type { LiveEvents, PublishErrorReporter } from './domain/live-events.js';
import { Messages } from './domain/messages.js';
import { messengerRoutes } from './routes.js';
import { AuthUsers, AUTH_CALL_TIMEOUTS } from './store/auth-users.js';
import { MysqlChatStore } from './store/chats.js';
import { MysqlMessageStore } from './store/messages.js';

export type MessengerConfig = z.infer<z.ZodObject<typeof messengerConfig>>;

/** Wires messenger: stores (ctx.mysql, auth through discovery), live events (ctx.events) → domain → routes. Nothing here creates tables. */
export function setupMessenger(ctx: ServiceContext<MessengerConfig>): ServiceParts {
  const { logger } = ctx;
  const pool = ctx.mysql();
  const chatStore = new MysqlChatStore(pool);
  // The platform's event bus (Redis pub/sub): every instance's sockets hear what any instance publishes.
  const events: LiveEvents = ctx.events();
  // A change is committed before it is announced: a failed publish is logged and the change
  // stands (clients that missed the event recover it when they resume).
  const onPublishError: PublishErrorReporter = (error, topic) =>
    logger.warn({ err: (error as Error)?.message ?? String(error), topic }, 'live event not published');

  return {
    routes: messengerRoutes({
      verifier: ctx.tokenVerifier(),
      chats: new Chats(chatStore, new AuthUsers(ctx.client('auth', AUTH_CALL_TIMEOUTS))),
      messages: new Messages(chatStore, new MysqlMessageStore(pool), events, onPublishError),
    }),
  };
}
