/**
 * A small real service for the live-delivery tests: liveSockets + ctx.events() exactly as the
 * applications use them. A socket subscribes to `user:<its user id>`; POST /publish puts events
 * on the bus from whichever instance it reaches. `since`, when given, must be digits (validated
 * before the protocol switches). Client events of type `echo` are answered by onMessage.
 * SERVICE_NAME names it in Consul; tokens are verified against the stack's `auth` (a JWKS fixture).
 */
import { badRequest, liveSockets, runService, z } from '@switchyard/infra';

await runService({
  name: process.env.SERVICE_NAME ?? 'live',
  setup(ctx) {
    const events = ctx.events();
    const live = liveSockets(ctx, {
      path: '/ws',
      validate(query) {
        const since = query.get('since');
        if (since !== null && !/^\d{1,20}$/.test(since)) throw badRequest('since must be a message id (digits)');
      },
      async onConnect(session, query) {
        const unsubscribe = events.subscribe(`user:${session.user.id}`, (event) => session.send(event));
        session.onClose(() => unsubscribe());
        await unsubscribe.ready;
        session.send({ type: 'subscribed', since: query.get('since'), sawToken: query.has('access_token') });
      },
      messageTypes: ['echo'],
      onMessage(session, event) {
        session.send({ type: 'echo', got: event, user: session.user.id });
      },
    });
    const publishBody = z.object({
      topic: z.string().min(1),
      event: z.record(z.string(), z.unknown()),
      count: z.number().int().min(1).max(10_000).default(1),
      padBytes: z.number().int().min(0).max(1_000_000).default(0),
    });
    return {
      routes(router) {
        router.post('/publish', async (req, res) => {
          const { topic, event, count, padBytes } = publishBody.parse(req.body);
          const pad = 'x'.repeat(padBytes);
          for (let seq = 0; seq < count; seq++) await events.publish(topic, { ...event, seq, ...(padBytes > 0 && { pad }) });
          res.json({ published: count, by: ctx.serviceId() });
        });
        router.get('/live', (_req, res) => {
          res.json({ sockets: live.size, subscriptions: events.subscriptions });
        });
      },
      upgrade: live.upgrade,
      onShutdown: (budget) => live.onShutdown(budget),
    };
  },
});
