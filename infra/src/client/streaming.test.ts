/**
 * ServiceClient.stream(): the body is handed over as it arrives (server-sent events pass one by
 * one), retries happen only before the headers, and an instance failing mid-body errors the
 * stream instead of ending it. Real HTTP servers on 127.0.0.1, listed by a FixedInstancer.
 */
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/support/wait.js';
import type { Instance } from '../sd/instance.js';
import { ResponseTooLarge } from './errors.js';
import type { ServiceClientOptions } from './service-client.js';
import { answer, closeUpstreams, endlessUpstream, refusingInstance, startUpstream, testClient, type TestUpstream } from './test-upstreams.js';

afterEach(closeUpstreams);

const clientOf = (instances: Array<TestUpstream | Instance>, options: ServiceClientOptions = {}) => testClient('streaming-test', instances, options);

/** A sink collecting what reaches it. */
function collector() {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  return { sink, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('ServiceClient.stream', () => {
  it('hands over each server-sent event as it comes: the first arrives before the second is written', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let secondWritten = false;
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.write('data: first\n\n');
      void released.then(() => {
        secondWritten = true;
        res.end('data: second\n\n');
      });
    });
    const client = clientOf([upstream]);
    const answer = await client.stream({ path: '/events?token=x' });
    expect(answer.status).toBe(200);
    const chunks = answer.body[Symbol.asyncIterator]();
    const first = await chunks.next();
    expect(String(first.value)).toBe('data: first\n\n');
    expect(secondWritten).toBe(false);
    release();
    let rest = '';
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) rest += String(next.value);
    expect(rest).toBe('data: second\n\n');
  });

  it('lets a stream outlive the attempt timeout and the deadline, which stop at the headers', async () => {
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('now, ');
      setTimeout(() => res.end('and much later'), 2_500);
    });
    const client = clientOf([upstream], { attemptTimeoutMs: 1_000, deadlineMs: 1_500 });
    const answer = await client.stream({ path: '/' });
    const { sink, text } = collector();
    await pipeline(answer.body, sink);
    expect(text()).toBe('now, and much later');
  });

  it('errors the body when the instance fails mid-body, rather than ending it', async () => {
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('half of it');
      setTimeout(() => res.destroy(), 20);
    });
    const client = clientOf([upstream]);
    const answer = await client.stream({ path: '/' });
    const { sink, text } = collector();
    await expect(pipeline(answer.body, sink)).rejects.toThrow();
    expect(text()).toBe('half of it');
  });

  it('retries before the headers arrive (a refused instance), like any call', async () => {
    const live = await startUpstream(answer(200));
    const client = clientOf([await refusingInstance(), live]);
    for (let i = 0; i < 4; i++) {
      const answer = await client.stream({ path: '/' });
      expect(answer.status).toBe(200);
      expect(answer.instance?.id).toBe(live.instance.id);
      const { sink, text } = collector();
      await pipeline(answer.body, sink);
      expect(JSON.parse(text())).toEqual({ status: 200 });
    }
  });

  it('stops the upstream transfer when the caller cancels mid-body', async () => {
    const { upstream, closed: upstreamClosed } = await endlessUpstream();
    const cancel = new AbortController();
    const client = clientOf([upstream]);
    const answer = await client.stream({ path: '/endless', signal: cancel.signal });
    answer.body.resume();
    cancel.abort();
    await waitFor('the upstream to see its answer cut', upstreamClosed);
  });
});

describe('buffered answers', () => {
  it('refuse an endless body past maxResponseBytes without buffering it', async () => {
    let upstreamClosed = false;
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const timer = setInterval(() => res.write(Buffer.alloc(16 * 1024)), 1);
      res.once('close', () => {
        clearInterval(timer);
        upstreamClosed = true;
      });
    });
    const client = clientOf([upstream], { maxResponseBytes: 256 * 1024, attemptTimeoutMs: 30_000, deadlineMs: 60_000 });
    await expect(client.get('/endless')).rejects.toBeInstanceOf(ResponseTooLarge);
    await waitFor('the upstream to see its answer cut', () => upstreamClosed);
    expect(client.breakerState(upstream.instance.id)).toBe('closed');
  });
});
