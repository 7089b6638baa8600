import { badRequest, liveSockets, type ServiceContext, type ServiceParts, type z } from '@switchyard/infra';
import { messageId } from './api.js';
import type { messengerConfig } from './config.js';
import { Chats } from './domain/chats.js';
import type { LiveEvents, PublishErrorReporter } from './domain/live-events.js';
import { startFeed } from './domain/live-feed.js';
import { Messages } from './domain/messages.js';
import { messengerRoutes } from './routes.js';
import { AuthUsers, AUTH_CALL_TIMEOUTS } from './store/auth-users.js';
import { MysqlChatStore } from './store/chats.js';
import { MysqlMessageStore } from './store/messages.js';
import { MysqlReplayStore } from './store/replay.js';

export type MessengerConfig = z.infer<z.ZodObject<typeof messengerConfig>>;

/**
 * Wires messenger: stores (ctx.mysql, auth through discovery), live events (ctx.events) → domain →
 * routes, and the live socket (`GET /ws?since=<message id>`: domain/live-feed.ts). Nothing here
 * creates tables.
 */
export function setupMessenger(ctx: ServiceContext<MessengerConfig>): ServiceParts {
  const { config, logger } = ctx;
  const pool = ctx.mysql();
  const chatStore = new MysqlChatStore(pool);
  // The platform's event bus (Redis pub/sub): every instance's sockets hear what any instance publishes.
  const bus = ctx.events();
  const events: LiveEvents = bus;
  // A change is committed before it is announced: a failed publish is logged and the change
  // stands (clients that missed the event recover it when they resume).
  const onPublishError: PublishErrorReporter = (error, topic) =>
    logger.warn({ err: (error as Error)?.message ?? String(error), topic }, 'live event not published');

  const replay = new MysqlReplayStore(pool);
  const live = liveSockets(ctx, {
    // Checked before the protocol switches, so a bad `since` is a 400 the client can read.
    validate(query) {
      const since = query.get('since');
      if (since !== null && !messageId.safeParse(since).success) throw badRequest('since must be a message id (a positive integer)');
    },
    onConnect: (session, query) => startFeed(session, query.get('since') ?? undefined, bus, replay, { replayLimit: config.MESSENGER_REPLAY_LIMIT }),
  });

  return {
    upgrade: live.upgrade,
    onShutdown: (budget) => live.onShutdown(budget),
    // Redis only carries live events: sends and history are MySQL's, and a socket that missed
    // events while it was down resumes from MySQL (live-feed.ts). The instance stays in Consul.
    degradedWithout: ['redis', 'redisEvents'],
    routes: messengerRoutes({
      verifier: ctx.tokenVerifier(),
      chats: new Chats(chatStore, new AuthUsers(ctx.client('auth', AUTH_CALL_TIMEOUTS))),
      messages: new Messages(chatStore, new MysqlMessageStore(pool), events, onPublishError),
    }),
  };
}
