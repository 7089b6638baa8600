/**
 * Live delivery balanced over 3 messenger instances, through the gateway: WebSocket clients (the
 * messenger client library) land on every instance, messages sent through the gateway (REST
 * rotating over the instances) reach every participant's sockets exactly once and in order,
 * whichever instance holds them; a third user hears nothing of a chat that is not theirs; an
 * upgrade without a valid token is refused at the gateway, before any instance is chosen.
 * Real gateway, auth, 3 messenger instances, MariaDB, Redis and Consul.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppStack, type AppUser } from '../../test/support/app-stack.js';
import { scrapeMetric } from '../../test/support/metrics.js';
import { REPO_ROOT } from '../../test/support/processes.js';
import { upgradeRequest } from '../../test/support/upgrade-request.js';
import { waitFor } from '../../test/support/wait.js';
import type { Running } from '../../test/support/isolated-stack.js';
import { LiveRecorder } from './support/live-recorder.js';

describe('live delivery over 3 messenger instances, through the gateway', () => {
  const app = new AppStack();
  let instances: Running[];
  let ana: AppUser;
  let bo: AppUser;
  let cy: AppUser;
  let chatId: string;
  const clients: LiveRecorder[] = [];

  const connect = async (user: AppUser) => {
    const recorder = new LiveRecorder(app.gateway.url, user.accessToken);
    clients.push(recorder);
    await recorder.ready();
    return recorder;
  };

  beforeAll(async () => {
    ({ messenger: instances } = await app.start({ auth: 1, messenger: 3 }));
    [ana, bo, cy] = [await app.user('Ana'), await app.user('Bo'), await app.user('Cy')];
    const opened = await app.call('POST', '/api/v1/messenger/chats', { token: ana.accessToken, body: { peerId: bo.id } });
    expect(opened.status).toBe(201);
    chatId = opened.body.id;
  }, 120_000);
  afterAll(async () => {
    for (const client of clients) client.close();
    await app.teardown();
  });

  it('spreads 6 sockets over all 3 instances, and delivers every message to every participant socket once, in order', async () => {
    // One at a time, so round robin alone decides where each lands.
    const anaSockets = [await connect(ana), await connect(ana), await connect(ana)];
    const boSockets = [await connect(bo), await connect(bo)];
    const cySocket = await connect(cy);
    const placement = [...anaSockets, ...boSockets, cySocket].map((client) => client.client.servedBy);
    expect(new Set(placement)).toEqual(new Set(instances.map((i) => i.serviceId)));

    const sent: Array<{ id: string; servedBy: string | null }> = [];
    for (let i = 0; i < 30; i++) {
      const author = i % 2 === 0 ? ana : bo;
      const answer = await app.call('POST', `/api/v1/messenger/chats/${chatId}/messages`, {
        token: author.accessToken,
        body: { text: `balanced ${i}`, clientMessageId: randomUUID() },
      });
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
      sent.push({ id: answer.body.id, servedBy: answer.servedBy });
    }
    // The sends went through every instance too: events crossed instances every way.
    expect(new Set(sent.map((s) => s.servedBy))).toEqual(new Set(instances.map((i) => i.serviceId)));

    const ids = sent.map((s) => s.id);
    for (const client of [...anaSockets, ...boSockets]) {
      await client.hasAll(ids);
      expect(client.messageIds()).toEqual(ids);
      expect(client.client.duplicatesDropped).toBe(0);
    }

    // Cy's own chat: its message arrives, and it is the only one Cy ever got (Ana and Bo's
    // messages were all published before it, on the same Redis).
    const cyChat = await app.call('POST', '/api/v1/messenger/chats', { token: ana.accessToken, body: { peerId: cy.id } });
    const forCy = await app.call('POST', `/api/v1/messenger/chats/${cyChat.body.id}/messages`, {
      token: ana.accessToken,
      body: { text: 'hi Cy', clientMessageId: randomUUID() },
    });
    expect(forCy.status).toBe(201);
    await cySocket.hasAll([forCy.body.id]);
    expect(cySocket.messageIds()).toEqual([forCy.body.id]);
    expect(cySocket.events.filter((e) => e.type === 'read')).toEqual([]);
  });

  it('refuses an upgrade without a valid token at the gateway, before any instance is chosen', async () => {
    const refusedBefore = await Promise.all(instances.map((i) => scrapeMetric(`http://127.0.0.1:${i.adminPort ?? i.port}/metrics`, 'switchyard_live_upgrades_refused_total', { status: '401' })));
    for (const [path, headers] of [
      ['/api/v1/messenger/ws', {}],
      [`/api/v1/messenger/ws?access_token=${ana.accessToken}x`, {}],
      ['/api/v1/messenger/ws', { authorization: 'Bearer not-a-token' }],
    ] as const) {
      const refused = await upgradeRequest(app.gateway.port, path, headers);
      expect(refused.status, path).toBe(401);
      expect(JSON.parse(refused.body).error.code).toMatch(/token|unauthorized|authentication/);
      expect(refused.headers['x-served-by'], 'no instance answered').toBeUndefined();
    }
    const refusedAfter = await Promise.all(instances.map((i) => scrapeMetric(`http://127.0.0.1:${i.adminPort ?? i.port}/metrics`, 'switchyard_live_upgrades_refused_total', { status: '401' })));
    expect(refusedAfter).toEqual(refusedBefore);
  });

  it('scripts/chat-events.ts prints the events as JSON lines (token from ACCESS_TOKEN), and stops on Ctrl-C', async () => {
    const cli = spawn(process.execPath, ['--import', 'tsx', 'scripts/chat-events.ts', '--gateway', app.gateway.url], {
      cwd: REPO_ROOT,
      env: { ...process.env, ACCESS_TOKEN: bo.accessToken },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    cli.stdout.on('data', (chunk) => (out += chunk));
    cli.stderr.on('data', (chunk) => (err += chunk));
    const exited = new Promise<number | null>((resolve) => cli.once('exit', (code) => resolve(code)));
    try {
      const lines = () => out.split('\n').filter(Boolean).map((line) => JSON.parse(line));
      const ready = await waitFor('the CLI to print ready', () => lines().find((e) => e.type === 'ready'), { timeoutMs: 20_000 });
      expect(instances.map((i) => i.serviceId)).toContain(ready.servedBy);
      const sent = await app.call('POST', `/api/v1/messenger/chats/${chatId}/messages`, {
        token: ana.accessToken,
        body: { text: 'to the terminal', clientMessageId: randomUUID() },
      });
      expect(sent.status).toBe(201);
      expect(await waitFor('the CLI to print the message', () => lines().find((e) => e.type === 'message'))).toEqual({ type: 'message', message: sent.body });
    } finally {
      cli.kill('SIGINT');
    }
    expect(await exited, err).toBe(0);
    expect(out + err).not.toContain(bo.accessToken);
  });
});
