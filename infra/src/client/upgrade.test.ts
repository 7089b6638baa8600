/**
 * ServiceClient.upgrade(): an upgrade handshake with one instance, retried elsewhere before an
 * answer like any call, then the switched connection is the caller's. Raw upgrade servers on
 * 127.0.0.1 (a toy protocol that echoes bytes), listed by a FixedInstancer.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { FixedInstancer } from '../sd/instancer.js';
import type { Instance } from '../sd/instance.js';
import { ServiceClient } from './service-client.js';
import { answer, closeUpstreams, refusingInstance, startUpstream, type TestUpstream } from './test-upstreams.js';

const clients: ServiceClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await closeUpstreams();
});

function clientOf(instances: Array<TestUpstream | Instance>): ServiceClient {
  const list = instances.map((i) => ('instance' in i ? i.instance : i));
  const client = new ServiceClient('upgrade-test', new FixedInstancer('upgrade-test', list));
  clients.push(client);
  return client;
}

/** An instance that switches to "echo" when asked (and refuses any other protocol with 426), then echoes bytes. */
async function echoProtocolUpstream(): Promise<TestUpstream & { upgrades: number }> {
  const upstream = Object.assign(await startUpstream(answer(404)), { upgrades: 0 });
  upstream.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (req.headers.upgrade !== 'echo') {
      socket.end('HTTP/1.1 426 Upgrade Required\r\ncontent-type: text/plain\r\ncontent-length: 12\r\nconnection: close\r\n\r\nuse "echo" !');
      return;
    }
    upstream.upgrades += 1;
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\nX-Echo-Path: ' + req.url + '\r\n\r\n');
    if (head.length > 0) socket.write(head);
    socket.pipe(socket);
  });
  return upstream;
}

const upgradeHeaders = (protocol: string) => ({ connection: 'upgrade', upgrade: protocol });

function nextData(socket: Duplex): Promise<string> {
  return new Promise((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString('utf8'))));
}

describe('ServiceClient.upgrade', () => {
  it('switches the connection, relays the 101 headers verbatim, and hands the socket over', async () => {
    const upstream = await echoProtocolUpstream();
    const client = clientOf([upstream]);
    const switched = await client.upgrade({ path: '/chat?room=1', headers: upgradeHeaders('echo') });
    if (!switched.upgraded) throw new Error(`expected an upgrade, got ${switched.status}`);
    expect(switched.status).toBe(101);
    expect(switched.rawHeaders).toEqual(['Upgrade', 'echo', 'Connection', 'Upgrade', 'X-Echo-Path', '/chat?room=1']);
    expect(switched.instance.id).toBe(upstream.instance.id);
    const echoed = nextData(switched.socket);
    switched.socket.write('ping');
    expect(await echoed).toBe('ping');
    switched.socket.destroy();
  });

  it("relays the instance's refusal as its plain answer", async () => {
    const upstream = await echoProtocolUpstream();
    const client = clientOf([upstream]);
    const refused = await client.upgrade({ path: '/', headers: upgradeHeaders('smoke-signals') });
    if (refused.upgraded) throw new Error('expected a refusal');
    expect(refused.status).toBe(426);
    let body = '';
    for await (const chunk of refused.body) body += String(chunk);
    expect(body).toBe('use "echo" !');
  });

  it('tries another instance when one refuses the connection', async () => {
    const upstream = await echoProtocolUpstream();
    const client = clientOf([await refusingInstance(), upstream]);
    for (let i = 0; i < 3; i++) {
      const switched = await client.upgrade({ path: '/', headers: upgradeHeaders('echo') });
      expect(switched.upgraded).toBe(true);
      if (switched.upgraded) switched.socket.destroy();
    }
    expect(upstream.upgrades).toBe(3);
  });
});
