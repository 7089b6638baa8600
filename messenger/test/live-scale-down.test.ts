/**
 * Scale-down without loss, through the gateway, while messages flow (a steady sender loop over
 * REST): SIGTERM one messenger instance, and its sockets close with 1012, the clients (the
 * messenger client library) reconnect through the gateway to another instance and resume with
 * `since`; then SIGKILL another, and its clients notice the cut (the kernel's FIN, the gateway's
 * idle cut or the heartbeat), reconnect and resume. In the end every participant's every socket
 * has received every stored message exactly once, in order, and no REST call failed.
 * Real gateway, auth, 3 messenger instances, MariaDB, Redis and Consul; short heartbeats.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppStack, type AppUser } from '../../test/support/app-stack.js';
import type { Running } from '../../test/support/isolated-stack.js';
import { waitFor } from '../../test/support/wait.js';
import { LiveRecorder } from './support/live-recorder.js';

/** The sender's pace: a steady flow (~40 messages/s), not a flood. */
const SEND_INTERVAL_MS = 25;

describe('live delivery across a scale-down (SIGTERM) and a crash (SIGKILL)', () => {
  const app = new AppStack({ WS_HEARTBEAT_MS: '1000' });
  let instances: Running[];
  let ana: AppUser;
  let bo: AppUser;
  let chatId: string;
  const clients: LiveRecorder[] = [];
  /** Every message stored (201) in this file, in the order sent. */
  const stored: string[] = [];

  /** Sends as Ana and Bo in turn until stopped; every answer is kept. */
  class Sender {
    /** Stored by this sender (also appended to `stored`). */
    readonly stored: string[] = [];
    readonly failures: string[] = [];
    private running = true;
    private readonly done: Promise<void>;

    constructor() {
      this.done = this.loop();
    }

    private async loop(): Promise<void> {
      for (let i = 0; this.running; i++) {
        const author = i % 2 === 0 ? ana : bo;
        try {
          const answer = await app.call('POST', `/api/v1/messenger/chats/${chatId}/messages`, {
            token: author.accessToken,
            body: { text: `flow ${i}`, clientMessageId: randomUUID() },
          });
          if (answer.status === 201) {
            this.stored.push(answer.body.id);
            stored.push(answer.body.id);
          }
          else this.failures.push(`${answer.status} ${JSON.stringify(answer.body)}`);
        } catch (error) {
          this.failures.push(String(error));
        }
        await sleep(SEND_INTERVAL_MS);
      }
    }

    /** Waits until `more` messages were stored from now on. */
    async storedMore(more: number): Promise<void> {
      const target = this.stored.length + more;
      await waitFor(`${more} more messages stored`, () => this.stored.length >= target, { timeoutMs: 20_000 });
    }

    async stop(): Promise<void> {
      this.running = false;
      await this.done;
    }
  }

  const socketsOn = (instance: Running) => clients.filter((client) => client.client.servedBy === instance.serviceId);

  /** Kills `victim` with `signal` while the sender runs; its clients must come back on other instances. */
  const takeDown = async (sender: Sender, victim: Running, signal: NodeJS.Signals) => {
    const affected = socketsOn(victim);
    expect(affected.length, `clients on ${victim.serviceId}`).toBeGreaterThan(0);
    const connectionsBefore = affected.map((client) => client.servedBy.length);
    await sender.storedMore(10);
    await victim.process.stop(signal);
    await waitFor(`the clients of ${victim.serviceId} back on another instance`, () =>
      affected.every((client, i) => client.servedBy.length > connectionsBefore[i]! && client.client.servedBy !== undefined),
    );
    for (const client of affected) expect(client.servedBy.at(-1)).not.toBe(victim.serviceId);
    // Messages keep flowing to the reconnected clients.
    await sender.storedMore(20);
    return affected;
  };

  /** Every client has every stored message, once, in order. */
  const expectEveryMessageOnceInOrder = async () => {
    for (const client of clients) {
      await client.hasAll(stored);
      expect(client.messageIds()).toEqual(stored);
    }
  };

  beforeAll(async () => {
    ({ messenger: instances } = await app.start({ auth: 1, messenger: 3 }, { GATEWAY_TUNNEL_IDLE_MS: '3000' }));
    [ana, bo] = [await app.user('Ana'), await app.user('Bo')];
    const opened = await app.call('POST', '/api/v1/messenger/chats', { token: ana.accessToken, body: { peerId: bo.id } });
    expect(opened.status).toBe(201);
    chatId = opened.body.id;
    // Six sockets, two per instance (round robin); both participants on several instances.
    for (const user of [ana, bo, ana, bo, ana, bo]) {
      const client = new LiveRecorder(app.gateway.url, user.accessToken, { heartbeatMs: 1_000 });
      clients.push(client);
      await client.ready();
    }
    expect(new Set(clients.map((c) => c.client.servedBy))).toEqual(new Set(instances.map((i) => i.serviceId)));
  }, 120_000);
  afterAll(async () => {
    for (const client of clients) client.close();
    await app.teardown();
  });

  it('SIGTERM: the instance closes its sockets with 1012; its clients resume elsewhere and miss nothing; no REST call fails', async () => {
    const sender = new Sender();
    try {
      const affected = await takeDown(sender, instances[0]!, 'SIGTERM');
      for (const client of affected) expect(client.disconnects[0]).toEqual({ code: 1012, reason: 'service_restart' });
    } finally {
      await sender.stop();
    }
    expect(sender.failures).toEqual([]);
    await expectEveryMessageOnceInOrder();
  }, 90_000);

  it('SIGKILL: its clients notice the cut, resume elsewhere, and nothing stored before the kill is lost', async () => {
    const before = clients.map((client) => client.disconnects.length);
    const sender = new Sender();
    let storedBeforeKill: string[] = [];
    try {
      const victim = instances[1]!;
      const affected = socketsOn(victim);
      await sender.storedMore(10);
      storedBeforeKill = [...stored];
      await takeDown(sender, victim, 'SIGKILL');
      for (const client of affected) {
        const cut = client.disconnects[before[clients.indexOf(client)]!]!;
        expect(cut.code, JSON.stringify(cut)).not.toBe(1000);
      }
    } finally {
      await sender.stop();
    }
    expect(sender.failures).toEqual([]);
    await expectEveryMessageOnceInOrder();
    // Said outright: what was answered 201 before the kill reached every socket.
    for (const client of clients) expect(client.messageIds()).toEqual(expect.arrayContaining(storedBeforeKill));
  }, 90_000);
});
