/**
 * Garbage on the messenger socket, through the gateway: invalid JSON, an oversized frame, a binary
 * frame each close the socket with a code and a reason; an unknown event type (or JSON that is no
 * event) is answered with an error event and the socket stays open. Neither the instance nor the
 * gateway falls over: afterwards a new socket gets its messages and REST answers.
 * Real gateway, auth, a messenger instance, MariaDB, Redis and Consul.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveClient } from '../../infra/test/support/live-clients.js';
import { AppStack, type AppUser } from '../../test/support/app-stack.js';
import type { Running } from '../../test/support/isolated-stack.js';

describe('bad frames on the messenger socket, through the gateway', () => {
  const app = new AppStack();
  let messenger: Running;
  let ana: AppUser;
  let bo: AppUser;
  let chatId: string;
  const sockets: LiveClient[] = [];

  const connect = async (user: AppUser) => {
    const client = new LiveClient(`ws://127.0.0.1:${app.gateway.port}/api/v1/messenger/ws?access_token=${user.accessToken}`);
    sockets.push(client);
    await client.opened;
    expect(await client.next()).toEqual({ type: 'ready', servedBy: messenger.serviceId });
    return client;
  };

  beforeAll(async () => {
    ({
      messenger: [messenger],
    } = await app.start({ auth: 1, messenger: 1 }));
    [ana, bo] = [await app.user('Ana'), await app.user('Bo')];
    const opened = await app.call('POST', '/api/v1/messenger/chats', { token: ana.accessToken, body: { peerId: bo.id } });
    chatId = opened.body.id;
  }, 120_000);
  afterAll(async () => {
    for (const socket of sockets) socket.ws.terminate();
    await app.teardown();
  });

  it('closes the socket with 1007 invalid_json on a text frame that is not JSON', async () => {
    const client = await connect(ana);
    client.send('{"type": "ping"');
    expect(await client.closed).toEqual({ code: 1007, reason: 'invalid_json' });
  });

  it('closes the socket with 1009 on a frame over 16 KiB', async () => {
    const client = await connect(ana);
    client.send(JSON.stringify({ type: 'ping', padding: 'x'.repeat(17 * 1024) }));
    expect((await client.closed).code).toBe(1009);
  });

  it('closes the socket with 1003 binary_not_supported on a binary frame', async () => {
    const client = await connect(ana);
    client.ws.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    expect(await client.closed).toEqual({ code: 1003, reason: 'binary_not_supported' });
  });

  it('answers an unknown event type, or JSON that is no event, with an error event; the socket stays open', async () => {
    const client = await connect(ana);
    for (const frame of [{ type: 'subscribe', chatId }, { type: 42 }, [1, 2, 3], 'just a string', null]) {
      client.send(JSON.stringify(frame));
      expect(await client.next(), JSON.stringify(frame)).toMatchObject({ type: 'error', code: 'unknown_event' });
    }
    client.send({ type: 'ping' });
    expect(await client.next()).toEqual({ type: 'pong' });
    // Still subscribed: a message arrives.
    const sent = await app.call('POST', `/api/v1/messenger/chats/${chatId}/messages`, {
      token: bo.accessToken,
      body: { text: 'still here?', clientMessageId: randomUUID() },
    });
    expect(sent.status).toBe(201);
    expect(await client.next()).toEqual({ type: 'message', message: sent.body });
  });

  it('keeps serving after all of it: the same instance, through the same gateway', async () => {
    messenger.process.assertRunning();
    app.gateway.process.assertRunning();
    const client = await connect(bo);
    const sent = await app.call('POST', `/api/v1/messenger/chats/${chatId}/messages`, {
      token: ana.accessToken,
      body: { text: 'after the garbage', clientMessageId: randomUUID() },
    });
    expect(sent.status).toBe(201);
    expect(sent.servedBy).toBe(messenger.serviceId);
    expect(await client.next()).toEqual({ type: 'message', message: sent.body });
    expect((await app.call('GET', '/api/v1/messenger/chats', { token: bo.accessToken })).status).toBe(200);
  });
});
