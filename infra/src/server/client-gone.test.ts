/**
 * abortWhenClientLeaves on a real node:http server: it fires when the client hangs up before the
 * answer ended, never after an answer went out whole, and tells each listener once, function or
 * handleEvent object, as an AbortSignal would (minus the removed ones).
 */
import { createServer, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Cancellation } from '../cancellation.js';
import { abortWhenClientLeaves } from './client-gone.js';

interface Served {
  gone: Cancellation;
  res: ServerResponse;
  told: string[];
  closed: Promise<void>;
}

const servers: Array<ReturnType<typeof createServer>> = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** A server whose one request subscribes three listeners (one removed again) and stays unanswered. */
async function serveOnce(): Promise<{ port: number; served: Promise<Served> }> {
  let handOver!: (served: Served) => void;
  const served = new Promise<Served>((resolve) => (handOver = resolve));
  const server = createServer((_req, res) => {
    const gone = abortWhenClientLeaves(res);
    const told: string[] = [];
    const removed = () => told.push('removed');
    gone.addEventListener('abort', () => told.push('function'), { once: true });
    gone.addEventListener('abort', { handleEvent: () => told.push('object') });
    gone.addEventListener('abort', removed);
    gone.removeEventListener('abort', removed);
    const closed = new Promise<void>((resolve) => res.once('close', () => setImmediate(resolve)));
    handOver({ gone, res, told, closed });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, served };
}

describe('abortWhenClientLeaves', () => {
  it('fires once, for every listener left, when the client hangs up before the answer', async () => {
    const { port, served } = await serveOnce();
    const call = request({ port, host: '127.0.0.1', path: '/' });
    call.on('error', () => {});
    call.end();
    const { gone, told, closed } = await served;
    expect(gone.aborted).toBe(false);
    call.destroy();
    await closed;
    expect(gone.aborted).toBe(true);
    expect(told).toEqual(['function', 'object']);
    // A listener added once it fired is never called (the work it guards checks `aborted` first).
    gone.addEventListener('abort', () => told.push('late'));
    expect(told).toEqual(['function', 'object']);
  });

  it('never fires once the answer went out whole', async () => {
    const { port, served } = await serveOnce();
    const answered = new Promise<number>((resolve) => {
      const call = request({ port, host: '127.0.0.1', path: '/', agent: false }, (answer) => {
        answer.resume();
        answer.once('end', () => resolve(answer.statusCode!));
      });
      call.end();
    });
    const { gone, res, told, closed } = await served;
    res.end('done');
    expect(await answered).toBe(200);
    await closed;
    expect(gone.aborted).toBe(false);
    expect(told).toEqual([]);
  });
});
