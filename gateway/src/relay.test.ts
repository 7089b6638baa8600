import { EventEmitter } from 'node:events';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BodySink, Cancellation, RelayedResponse } from '@switchyard/infra';
import { relayBody, UpstreamAnswerLost, type RelayedCall } from './relay.js';

const STALL_MS = 1_000;

/** An upstream body the test drives: it hands the sink out and counts resumes and aborts. */
function upstreamBody() {
  const body = { sink: undefined as BodySink | undefined, resumed: 0, aborted: 0 };
  const answer = {
    status: 200,
    headers: {},
    body: {
      deliver: (sink: BodySink) => void (body.sink = sink),
      resume: () => void (body.resumed += 1),
      abort: () => void (body.aborted += 1),
    },
  } as unknown as RelayedResponse;
  return { body, answer };
}

/** A client response whose socket is full or not as the test says, and whose backlog the test sets. */
class ClientResponse extends EventEmitter {
  writableLength = 0;
  full = false;
  closed = false;
  destroyed = false;
  ended = false;
  write(chunk: Buffer): boolean {
    this.writableLength += chunk.length;
    return !this.full;
  }
  end(): void {
    this.ended = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
  flushHeaders(): void {}
}

function call(req = new IncomingMessage(new Socket())): RelayedCall {
  return { req, service: 'echo', path: '/big', requestId: 'r1', idempotent: true, upstreamHeaders: {}, gatewayServedBy: 'gateway-1', overwritten: undefined };
}

const CHUNK = Buffer.alloc(64 * 1024);

/** The client has not gone away (the relay only reads `aborted`). */
const notCancelled = (): Cancellation => ({ aborted: false, addEventListener: () => undefined, removeEventListener: () => undefined });

describe('the stall clock of a relay', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  function relayInto(res: ClientResponse) {
    const { body, answer } = upstreamBody();
    relayBody(answer, res as unknown as ServerResponse, notCancelled(), { stallMs: STALL_MS }, call());
    return body;
  }

  it('cuts a client that takes nothing while its socket is full, and lets the upstream go', () => {
    const res = new ClientResponse();
    const body = relayInto(res);
    res.full = true;
    expect(body.sink!.write(CHUNK)).toBe(false);
    vi.advanceTimersByTime(STALL_MS - 1);
    expect(res.destroyed).toBe(false);
    vi.advanceTimersByTime(1);
    expect(res.destroyed).toBe(true);
    expect(body.aborted).toBe(1);
    expect(res.listenerCount('drain') + res.listenerCount('close')).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps a slow client that takes part of the backlog in every period, however long the whole takes', () => {
    const res = new ClientResponse();
    const body = relayInto(res);
    res.full = true;
    body.sink!.write(CHUNK);
    body.sink!.write(CHUNK);
    // Ten periods, each seeing one write of the backlog complete, none of them emptying it.
    for (let period = 0; period < 10; period++) {
      res.writableLength -= 8 * 1024;
      vi.advanceTimersByTime(STALL_MS);
      expect(res.destroyed, `period ${period}`).toBe(false);
    }
    // Then it stops taking anything: one more period and it is cut.
    vi.advanceTimersByTime(STALL_MS);
    expect(res.destroyed).toBe(true);
    expect(body.aborted).toBe(1);
  });

  it('never starts the clock for an answer whose client keeps up, and makes one timer for many pauses', () => {
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    const res = new ClientResponse();
    const body = relayInto(res);
    body.sink!.write(CHUNK);
    expect(vi.getTimerCount()).toBe(0);
    for (let pause = 0; pause < 5; pause++) {
      res.full = true;
      body.sink!.write(CHUNK);
      // Drained within the period: the upstream goes on, and the clock is not a reason to cut.
      vi.advanceTimersByTime(STALL_MS / 2);
      res.full = false;
      res.writableLength = 0;
      res.emit('drain');
      vi.advanceTimersByTime(STALL_MS);
    }
    expect(body.resumed).toBe(5);
    expect(res.destroyed).toBe(false);
    expect(setTimeoutSpy).toHaveBeenCalledTimes(1);
    body.sink!.end();
    expect(res.ended).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    setTimeoutSpy.mockRestore();
  });

  it('restarts the period at each pause: a client that drained and filled up again has its whole period', () => {
    const res = new ClientResponse();
    const body = relayInto(res);
    res.full = true;
    body.sink!.write(CHUNK);
    vi.advanceTimersByTime(STALL_MS - 100);
    res.writableLength = 0;
    res.emit('drain');
    body.sink!.write(CHUNK);
    // The first pause's clock would run out here; the second pause's has 900 ms to go.
    vi.advanceTimersByTime(200);
    expect(res.destroyed).toBe(false);
    vi.advanceTimersByTime(STALL_MS);
    expect(res.destroyed).toBe(true);
  });

  it('stops the clock when the client leaves', () => {
    const res = new ClientResponse();
    const body = relayInto(res);
    res.full = true;
    body.sink!.write(CHUNK);
    res.emit('close');
    expect(body.aborted).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('an upstream that fails before the first byte of its body left', () => {
  function failingRelay(overwritten: unknown[] | undefined, idempotent: boolean) {
    const req = new IncomingMessage(new Socket());
    const res = new ServerResponse(req);
    // What the gateway had set, then what the upstream's answer set over and beside it.
    res.setHeader('x-served-by', 'gateway-1');
    res.setHeader('x-request-id', 'r1');
    res.setHeader('x-upstream-only', 'yes');
    res.setHeader('set-cookie', ['a=1']);
    res.setHeader('x-frame-options', 'SAMEORIGIN');
    res.setHeader('content-length', '100');
    res.setHeader('x-served-by', 'echo-1');
    const { body, answer } = upstreamBody();
    const respond = vi.fn();
    const upstreamHeaders = { 'x-upstream-only': 'yes', 'set-cookie': ['a=1'], 'x-frame-options': 'SAMEORIGIN' };
    relayBody(answer, res, notCancelled(), { respond }, { ...call(req), idempotent, upstreamHeaders, overwritten });
    body.sink!.fail(new Error('socket hang up'));
    return { res, respond };
  }

  it("answers the gateway's error in its place, with the gateway's headers back and none of the upstream's", () => {
    const { res, respond } = failingRelay(['x-frame-options', 'DENY'], true);
    expect(respond).toHaveBeenCalledOnce();
    const error = respond.mock.calls[0]![0] as UpstreamAnswerLost;
    expect(error).toBeInstanceOf(UpstreamAnswerLost);
    expect(error).toMatchObject({ status: 502, code: 'upstream_answer_lost', service: 'echo' });
    expect(error.message).toContain('socket hang up');
    expect(error.message).not.toContain('may have taken effect');
    expect(res.getHeaders()).toEqual({ 'x-served-by': 'gateway-1', 'x-request-id': 'r1', 'x-frame-options': 'DENY' });
  });

  it('says that a write may have taken effect', () => {
    const { respond } = failingRelay(undefined, false);
    expect((respond.mock.calls[0]![0] as Error).message).toContain('the request may have taken effect');
  });
});
