/**
 * ServiceClient.relay(): the body is delivered chunk by chunk into the caller's sink (server-sent
 * events one by one), a sink that says "full" pauses the upstream connection until resume(),
 * retries happen only before the headers (a retried answer's body is read off and the connection
 * reused), an instance failing mid-body fails the sink instead of ending it, and abort() or the
 * caller's cancellation stops the transfer. Real HTTP servers on 127.0.0.1, listed by a FixedInstancer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/support/wait.js';
import type { Instance } from '../sd/instance.js';
import type { BodySink } from './relay-exchange.js';
import type { RelayedResponse, ServiceClient, ServiceClientOptions } from './service-client.js';
import { answer, closeUpstreams, endlessUpstream, refusingInstance, startUpstream, testClient, type TestUpstream } from './test-upstreams.js';

afterEach(closeUpstreams);

const clientOf = (instances: Array<TestUpstream | Instance>, options: ServiceClientOptions = {}) => testClient('relay-test', instances, options);

/** A sink recording what reaches it; `full` makes write() ask for a pause. */
function recorder(options: { full?: () => boolean } = {}) {
  const chunks: Buffer[] = [];
  /** What each call brought, in order: 'write' or 'end' with its chunk's size (0: none). */
  const calls: string[] = [];
  let told: { ended: boolean; error?: Error } | undefined;
  let settle!: (outcome: { ended: boolean; error?: Error }) => void;
  const done = new Promise<{ ended: boolean; error?: Error }>((resolve) => (settle = (outcome) => resolve((told = outcome))));
  const sink: BodySink = {
    write(chunk) {
      chunks.push(chunk);
      calls.push(`write ${chunk.length}`);
      return !(options.full?.() ?? false);
    },
    end: (lastChunk) => {
      if (lastChunk) chunks.push(lastChunk);
      calls.push(`end ${lastChunk?.length ?? 0}`);
      settle({ ended: true });
    },
    fail: (error) => settle({ ended: false, error }),
  };
  return { sink, done, told: () => told, chunks, calls, text: () => Buffer.concat(chunks).toString('utf8'), bytes: () => chunks.reduce((n, c) => n + c.length, 0) };
}

async function relayed(client: ServiceClient, path = '/'): Promise<{ answer: RelayedResponse; body: ReturnType<typeof recorder> }> {
  const answer = await client.relay({ path });
  const body = recorder();
  answer.body.deliver(body.sink);
  return { answer, body };
}

describe('ServiceClient.relay', () => {
  it('relays status, headers and the whole body, and ends the sink', async () => {
    const upstream = await startUpstream(answer(201, { 'x-served-by': 'up-1', 'set-cookie': 'a=1' }));
    const { answer: got, body } = await relayed(clientOf([upstream]));
    expect(got.status).toBe(201);
    expect(got.headers['x-served-by']).toBe('up-1');
    // Set-Cookie stays a list, as every hop keeps it.
    expect(got.headers['set-cookie']).toEqual(['a=1']);
    expect(got.instance?.id).toBe(upstream.instance.id);
    expect(await body.done).toEqual({ ended: true });
    expect(JSON.parse(body.text())).toEqual({ status: 201 });
  });

  it('delivers each server-sent event as it comes: the first arrives before the second is written', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let secondWritten = false;
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      void released.then(() => {
        secondWritten = true;
        res.end('data: second\n\n');
      });
    });
    const { body } = await relayed(clientOf([upstream]), '/events');
    await waitFor('the first event', () => body.text() === 'data: first\n\n');
    expect(secondWritten).toBe(false);
    release();
    expect(await body.done).toEqual({ ended: true });
    expect(body.text()).toBe('data: first\n\ndata: second\n\n');
  });

  it('pauses the upstream while the sink is full, and goes on when resumed', async () => {
    // More than loopback's socket buffers hold (a few MiB), so a paused reader stalls the writer.
    const total = 16 * 1024 * 1024;
    let written = 0;
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total) });
      const chunk = Buffer.alloc(64 * 1024, 7);
      const pump = () => {
        while (written < total) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    let full = true;
    const answer = await clientOf([upstream]).relay({ path: '/big' });
    const body = recorder({ full: () => full });
    answer.body.deliver(body.sink);
    await waitFor('a first chunk', () => body.chunks.length > 0);
    // Held back by the paused connection: after a while, nowhere near the whole body has been
    // read, and the upstream's writes stall on the sockets' buffers.
    const seen = body.bytes();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(body.bytes()).toBeLessThan(total / 2);
    expect(body.bytes() - seen).toBeLessThan(total / 4);
    expect(written).toBeLessThan(total);
    full = false;
    answer.body.resume();
    expect(await body.done).toEqual({ ended: true });
    expect(body.bytes()).toBe(total);
  });

  it('fails the sink when the instance dies mid-body, rather than ending it', async () => {
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('half of it');
      setTimeout(() => res.destroy(), 20);
    });
    const { body } = await relayed(clientOf([upstream]));
    const outcome = await body.done;
    expect(outcome.ended).toBe(false);
    expect(outcome.error).toBeInstanceOf(Error);
    expect(body.text()).toBe('half of it');
  });

  it('fails the sink when the body ended before its stated length', async () => {
    const upstream = await startUpstream((req, res) => {
      // A lying Content-Length: the socket ends after 5 of the 10 bytes promised.
      res.socket!.end('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhello');
      req.resume();
    });
    const { body } = await relayed(clientOf([upstream]));
    expect((await body.done).ended).toBe(false);
  });

  it('retries before the headers (a refused instance, a 503), reading off the body it drops', async () => {
    const busy = await startUpstream(answer(503));
    const live = await startUpstream(answer(200));
    const client = clientOf([await refusingInstance(), busy, live]);
    for (let i = 0; i < 6; i++) {
      const { answer: got, body } = await relayed(client);
      expect(got.status).toBe(200);
      expect(got.instance?.id).toBe(live.instance.id);
      expect(await body.done).toEqual({ ended: true });
    }
    // The 503 answers were read off, so their connections were kept for the next calls.
    expect(busy.calls).toBeGreaterThan(0);
    expect(busy.inFlight).toBe(0);
  });

  it('delivers a body that arrived before deliver() was called, then the end', async () => {
    const upstream = await startUpstream(answer(200));
    const answer200 = await clientOf([upstream]).relay({ path: '/' });
    // The upstream is done with it: the small answer came in with its headers and is held for the sink.
    await waitFor('the upstream to finish its answer', () => upstream.inFlight === 0);
    const body = recorder();
    answer200.body.deliver(body.sink);
    expect(await body.done).toEqual({ ended: true });
    expect(JSON.parse(body.text())).toEqual({ status: 200 });
    // Whole before delivery: its last chunk comes with the end (the client's response is written once).
    expect(body.calls).toEqual([`end ${Buffer.byteLength(JSON.stringify({ status: 200 }))}`]);
  });

  it('writes the chunks of a held body but its last, which comes with the end', async () => {
    const upstream = await startUpstream((_req, res) => {
      // Chunked: undici hands each part over on its own.
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first,');
      res.end('last');
    });
    const held = await clientOf([upstream]).relay({ path: '/' });
    await waitFor('the upstream to finish its answer', () => upstream.inFlight === 0);
    const body = recorder();
    held.body.deliver(body.sink);
    expect(await body.done).toEqual({ ended: true });
    expect(body.text()).toBe('first,last');
    expect(body.calls).toEqual(['write 6', 'end 4']);
  });

  it('stops the upstream transfer on abort(), and tells the sink nothing more', async () => {
    const { upstream, closed: upstreamClosed } = await endlessUpstream();
    const { answer: got, body } = await relayed(clientOf([upstream]), '/endless');
    await waitFor('a first chunk', () => body.chunks.length > 0);
    got.body.abort();
    await waitFor('the upstream to see its answer cut', upstreamClosed);
    // The cut's error came back from undici at once (abort is synchronous): the sink never heard of it.
    expect(body.told()).toBeUndefined();
  });

  it('stops the upstream transfer when the caller cancels mid-body', async () => {
    const { upstream, closed: upstreamClosed } = await endlessUpstream();
    const cancel = new AbortController();
    const answer = await clientOf([upstream]).relay({ path: '/endless', signal: cancel.signal });
    const body = recorder();
    answer.body.deliver(body.sink);
    cancel.abort();
    expect((await body.done).ended).toBe(false);
    await waitFor('the upstream to see its answer cut', upstreamClosed);
  });

  it('lets a body outlive the attempt timeout and the deadline, which stop at the headers', async () => {
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('now, ');
      setTimeout(() => res.end('and much later'), 1_500);
    });
    const { body } = await relayed(clientOf([upstream], { attemptTimeoutMs: 500, deadlineMs: 1_000 }));
    expect(await body.done).toEqual({ ended: true });
    expect(body.text()).toBe('now, and much later');
  });

  it("delivers a fallback's answer like any other", async () => {
    const client = clientOf([], {
      discoveryTimeoutMs: 10,
      fallback: () => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: Buffer.from('from the fallback'), fromFallback: true }),
    });
    const { answer: got, body } = await relayed(client);
    expect(got.fromFallback).toBe(true);
    expect(await body.done).toEqual({ ended: true });
    expect(body.text()).toBe('from the fallback');
  });

  it('counts a call in flight until its body ends, fails, is abandoned or cancelled', async () => {
    const whole = await startUpstream(answer(200));
    const client = clientOf([whole]);
    const ended = await relayed(client);
    await ended.body.done;
    expect(client.inFlight(whole.instance.id)).toBe(0);

    const { upstream: endless } = await endlessUpstream();
    const endlessClient = clientOf([endless]);
    const abandoned = await relayed(endlessClient, '/endless');
    expect(endlessClient.inFlight(endless.instance.id)).toBe(1);
    abandoned.answer.body.abort();
    expect(endlessClient.inFlight(endless.instance.id)).toBe(0);

    const cancel = new AbortController();
    const cancelled = await endlessClient.relay({ path: '/endless', signal: cancel.signal });
    const body = recorder();
    cancelled.body.deliver(body.sink);
    cancel.abort();
    await body.done;
    expect(endlessClient.inFlight(endless.instance.id)).toBe(0);

    // Never delivered: abandoned before deliver(), which then tells the sink nothing.
    const undelivered = await endlessClient.relay({ path: '/endless' });
    undelivered.body.abort();
    expect(endlessClient.inFlight(endless.instance.id)).toBe(0);
    const late = recorder();
    undelivered.body.deliver(late.sink);
    expect(late.chunks).toEqual([]);
    expect(late.told()).toBeUndefined();
  });

  it('holds a body larger than its hold limit until deliver(), then relays it whole', async () => {
    // 1 MiB arrives before anyone delivers it: undici is paused at the hold limit, not buffering it all.
    const total = 1024 * 1024;
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total) });
      res.end(Buffer.alloc(total, 3));
    });
    const answer = await clientOf([upstream]).relay({ path: '/big' });
    await new Promise((resolve) => setImmediate(resolve));
    const body = recorder();
    answer.body.deliver(body.sink);
    expect(await body.done).toEqual({ ended: true });
    expect(body.bytes()).toBe(total);
  });

  it('retries past an answer whose body is too large to read off (its connection is closed instead)', async () => {
    const big = await startUpstream((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/octet-stream', 'content-length': String(512 * 1024) });
      res.end(Buffer.alloc(512 * 1024));
    });
    const live = await startUpstream(answer(200));
    const client = clientOf([big, live]);
    for (let i = 0; i < 4; i++) {
      const { answer: got, body } = await relayed(client);
      expect(got.status).toBe(200);
      expect(await body.done).toEqual({ ended: true });
    }
    expect(big.calls).toBeGreaterThan(0);
    expect(client.inFlight(big.instance.id)).toBe(0);
  });

  it('writes nothing more to a sink that gave up while its held chunks were written', async () => {
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      // Separate writes, flushed apart: several chunks held before deliver().
      res.write('one,');
      setTimeout(() => res.write('two,'), 20);
      setTimeout(() => res.end('three'), 40);
    });
    const client = clientOf([upstream]);
    const answer = await client.relay({ path: '/' });
    await waitFor('the upstream to finish its answer', () => upstream.inFlight === 0);
    const written: string[] = [];
    let told = 0;
    answer.body.deliver({
      write(chunk) {
        written.push(chunk.toString());
        answer.body.abort();
        return true;
      },
      end: () => (told += 1),
      fail: () => (told += 1),
    });
    expect(written).toHaveLength(1);
    expect(told).toBe(0);
    expect(client.inFlight(upstream.instance.id)).toBe(0);
  });
});

describe('ServiceClient.relay with a receiver', () => {
  it('hands the accepted answer over before the call settles: a small body is delivered whole by then; a retried answer is never handed over', async () => {
    const busy = await startUpstream(answer(503));
    const live = await startUpstream(answer(200, { 'x-served-by': 'live' }));
    const client = clientOf([busy, live]);
    for (let i = 0; i < 4; i++) {
      const events: string[] = [];
      const received: RelayedResponse[] = [];
      const body = recorder();
      const call = client.relay({ path: '/' }, (got) => {
        received.push(got);
        events.push(`received ${got.status}`);
        got.body.deliver(body.sink);
        if (body.told()?.ended) events.push('body ended');
      });
      const got = await call;
      events.push('call settled');
      // The same answer, once; the 503 was judged, read off and retried, never handed over.
      expect(received).toEqual([got]);
      expect(got.instance?.id).toBe(live.instance.id);
      expect(events).toEqual(['received 200', 'body ended', 'call settled']);
      expect(JSON.parse(body.text())).toEqual({ status: 200 });
    }
    expect(busy.calls).toBeGreaterThan(0);
  });

  it("does not hand a fallback's answer over: the call resolves with it", async () => {
    const client = clientOf([], {
      discoveryTimeoutMs: 10,
      fallback: () => ({ status: 200, headers: {}, body: Buffer.from('from the fallback'), fromFallback: true }),
    });
    let handedOver = 0;
    const got = await client.relay({ path: '/' }, () => (handedOver += 1));
    expect(got.fromFallback).toBe(true);
    expect(handedOver).toBe(0);
  });

  it('rejects with what the receiver threw; the instance answered, so no other one is tried', async () => {
    const first = await startUpstream(answer(200));
    const second = await startUpstream(answer(200));
    const client = clientOf([first, second]);
    const refused = new Error('the receiver could not take this answer');
    await expect(
      client.relay({ path: '/' }, (got) => {
        got.body.abort();
        throw refused;
      }),
    ).rejects.toBe(refused);
    expect(first.calls + second.calls).toBe(1);
    await waitFor('the abandoned attempt to leave the in-flight count', () => client.inFlight(first.instance.id) + client.inFlight(second.instance.id) === 0);
  });
});

describe('ServiceClient.relay with a sink that throws', () => {
  it('ends the attempt and tells the sink, rather than leaving the call in flight', async () => {
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first,');
      res.end('last');
    });
    const client = clientOf([upstream]);
    const answered = await client.relay({ path: '/' });
    // The answer is held whole by now, in two chunks; delivering it makes the sink's first write throw.
    await waitFor('the upstream to finish its answer', () => upstream.inFlight === 0);
    const body = recorder();
    const refusing: BodySink = {
      ...body.sink,
      write: () => {
        throw new Error('the sink refused a chunk');
      },
    };
    expect(() => answered.body.deliver(refusing)).not.toThrow();
    expect(await body.done).toEqual({ ended: false, error: new Error('the sink refused a chunk') });
    expect(client.inFlight(upstream.instance.id)).toBe(0);
  });
});
