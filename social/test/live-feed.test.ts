/**
 * The live feed through the gateway, on the platform's socket machinery: with two social
 * instances, a friend's new post (taken by whichever instance the REST call reached) arrives on
 * a socket held by either instance, and so does its deletion; a stranger's socket hears nothing.
 * Real gateway, auth, two social instances, MariaDB, Redis and Consul.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveClient } from '../../infra/test/support/live-clients.js';
import { AppStack, type AppUser } from '../../test/support/app-stack.js';

describe('live feed events over WebSocket (gateway → 2 social instances)', () => {
  const app = new AppStack();
  let author: AppUser;
  let friend: AppUser;
  let stranger: AppUser;
  let socialIds: string[];
  const sockets: LiveClient[] = [];

  const connect = async (user: AppUser) => {
    const client = new LiveClient(`ws://127.0.0.1:${app.gateway.port}/api/v1/social/ws?access_token=${user.accessToken}`);
    sockets.push(client);
    const headers = await client.opened;
    const ready = await client.next();
    expect(ready).toEqual({ type: 'ready', servedBy: headers['x-served-by'] });
    return { client, servedBy: ready.servedBy as string };
  };

  beforeAll(async () => {
    const { social } = await app.start({ auth: 1, social: 2 });
    socialIds = social.map((s) => s.serviceId);
    [author, friend, stranger] = [await app.user('Author'), await app.user('Friend'), await app.user('Stranger')];
    await app.befriend(author, friend);
  }, 120_000);
  afterAll(async () => {
    for (const socket of sockets) socket.ws.terminate();
    await app.teardown();
  });

  it('delivers a friend’s posts and deletions to sockets on every instance, never to a stranger', async () => {
    // Round robin puts consecutive sockets on both instances.
    const friendSockets = [await connect(friend), await connect(friend)];
    expect(new Set(friendSockets.map((s) => s.servedBy))).toEqual(new Set(socialIds));
    const strangerSocket = await connect(stranger);

    // Four posts: the REST calls rotate over both instances too, so events cross instances both ways.
    const posted: Array<{ id: string; servedBy: string | null }> = [];
    for (let i = 0; i < 4; i++) {
      const answer = await app.call('POST', '/api/v1/social/posts', { token: author.accessToken, body: { text: `live ${i}` } });
      expect(answer.status).toBe(201);
      posted.push({ id: answer.body.id, servedBy: answer.servedBy });
    }
    expect(new Set(posted.map((p) => p.servedBy))).toEqual(new Set(socialIds));

    for (const { client } of friendSockets) {
      const events = [await client.next(), await client.next(), await client.next(), await client.next()];
      expect(events.map((e) => [e.type, e.post.id, e.post.authorId, e.post.text])).toEqual(
        posted.map((p, i) => ['post', p.id, author.id, `live ${i}`]),
      );
    }

    const deleted = await app.call('DELETE', `/api/v1/social/posts/${posted[0]!.id}`, { token: author.accessToken });
    expect(deleted.status).toBe(204);
    for (const { client } of friendSockets) {
      expect(await client.next()).toEqual({ type: 'post_deleted', postId: posted[0]!.id, authorId: author.id });
    }
    // Everything above reached the friend; the stranger's socket got its ready event only.
    expect(strangerSocket.client.pending()).toEqual([]);
  });

  it('refuses an upgrade without a valid token at the gateway', async () => {
    const anonymous = new LiveClient(`ws://127.0.0.1:${app.gateway.port}/api/v1/social/ws`);
    await expect(anonymous.opened).rejects.toThrow(/401/);
    const forged = new LiveClient(`ws://127.0.0.1:${app.gateway.port}/api/v1/social/ws?access_token=${friend.accessToken}x`);
    await expect(forged.opened).rejects.toThrow(/401/);
  });
});
