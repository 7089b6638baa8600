/**
 * Tunnel liveness in the gateway's upgrade relay: a relayed WebSocket where no byte moves either
 * way for the idle timeout is cut on both hops (a peer gone without a FIN must not hold a tunnel
 * forever), while one with traffic outlives the timeout many times. The relay runs in-process
 * (the real upgradeRelay, with a short idle timeout) in front of a real `ws` server on a real
 * socket, reached through a ServiceClient over a fixed instance list.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FixedInstancer, ServiceClient, z } from '@switchyard/infra';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { waitFor } from '../../test/support/wait.js';
import { defineRoute, path } from '../src/route-table.js';
import { upgradeRelay, type UpgradeRelay } from '../src/upgrade.js';

const IDLE_MS = 400;

describe('gateway tunnel idle timeout', () => {
  let upstream: Server;
  let sockets: WebSocketServer;
  let front: Server;
  let relay: UpgradeRelay;
  let client: ServiceClient;
  const upstreamCloses: number[] = [];

  beforeAll(async () => {
    upstream = createServer();
    sockets = new WebSocketServer({ noServer: true });
    upstream.on('upgrade', (req, socket, head) => sockets.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data) => ws.send(String(data)));
      ws.once('close', (code) => upstreamCloses.push(code));
    }));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const port = (upstream.address() as AddressInfo).port;
    client = new ServiceClient('idle-echo', new FixedInstancer('idle-echo', [{ id: 'idle-echo-1', service: 'idle-echo', address: '127.0.0.1', port, tags: [], meta: {} }]));
    const route = defineRoute({
      method: 'GET',
      path: '/ws',
      service: 'idle-echo',
      auth: 'public',
      params: z.object({}),
      upstreamPath: () => path`/ws`,
      timeouts: { attemptTimeoutMs: 2_000, deadlineMs: 4_000 },
      docs: { summary: 'test: a socket' },
    });
    relay = upgradeRelay([route], { clientFor: () => client, gatewayId: () => 'gateway-test', tunnelIdleMs: IDLE_MS });
    front = createServer();
    front.on('upgrade', relay);
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    relay?.closeAll();
    await client?.close();
    front?.close();
    sockets?.close();
    upstream?.close();
  });

  const open = async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${(front.address() as AddressInfo).port}/ws`);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return { ws, closed };
  };

  it('cuts a tunnel where nothing moved for the idle timeout, on both hops', async () => {
    const before = upstreamCloses.length;
    const { closed } = await open();
    expect(relay.openTunnels).toBe(1);
    const openedAt = Date.now();
    // Cut, not closed: no close frame crossed (1006 on both ends).
    expect(await closed).toBe(1006);
    const lasted = Date.now() - openedAt;
    expect(lasted).toBeGreaterThanOrEqual(IDLE_MS - 50);
    expect(lasted).toBeLessThan(IDLE_MS * 5);
    await waitFor('the upstream side to close too', () => upstreamCloses.length > before);
    expect(upstreamCloses.at(-1)).toBe(1006);
    await waitFor('the tunnel to be forgotten', () => relay.openTunnels === 0);
  });

  it('keeps a tunnel that carries traffic, however long it lives', async () => {
    const { ws, closed } = await open();
    let echoed = 0;
    ws.on('message', () => (echoed += 1));
    let cut = false;
    void closed.then(() => (cut = true));
    for (let i = 0; i < 12; i += 1) {
      ws.send(`tick ${i}`);
      await waitFor(`echo ${i}`, () => echoed > i);
      await new Promise((resolve) => setTimeout(resolve, IDLE_MS / 4));
    }
    // Alive well past three idle timeouts.
    expect(cut).toBe(false);
    ws.close(1000);
    expect(await closed).toBe(1000);
  });
});
