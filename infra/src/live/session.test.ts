import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { describe, expect, it } from 'vitest';
import { createSession, wouldOverflow } from './session.js';

/** The part of a ws WebSocket a session uses, with the unsent bytes set by the test. */
class FakeSocket extends EventEmitter {
  readyState = 1;
  bufferedAmount = 0;
  sent: string[] = [];
  closedWith: [number, string] | undefined;
  terminated = false;
  send(payload: string) {
    this.sent.push(payload);
    this.bufferedAmount += Buffer.byteLength(payload);
  }
  close(code: number, reason: string) {
    this.readyState = 2;
    this.closedWith = [code, reason];
  }
  terminate() {
    this.terminated = true;
  }
}

function session(limit: number) {
  const ws = new FakeSocket();
  const dropped: string[] = [];
  let sent = 0;
  const live = createSession(ws as unknown as WebSocket, { id: 'u1', sessionId: 's1' }, {
    maxBufferedBytes: limit,
    slowCloseGraceMs: 60_000,
    onDropped: (reason) => dropped.push(reason),
    onSent: () => (sent += 1),
  });
  return { ws, live, dropped, sent: () => sent };
}

describe('live session sends', () => {
  it('counts the frame being sent against the limit', () => {
    expect(wouldOverflow(0, 100, 100)).toBe(false);
    expect(wouldOverflow(1, 100, 100)).toBe(true);
    expect(wouldOverflow(0, 101, 100)).toBe(true);
  });

  it('sends JSON while the unsent bytes stay under the limit', () => {
    const { ws, live, sent } = session(1_000);
    expect(live.send({ type: 'ready' })).toBe(true);
    expect(ws.sent).toEqual(['{"type":"ready"}']);
    expect(sent()).toBe(1);
    expect(live.open).toBe(true);
  });

  it('closes a slow consumer with 1008 slow_consumer instead of buffering without bound', () => {
    const { ws, live, dropped } = session(120); // two 58-byte events fit, a third does not
    const event = { type: 'message', text: 'x'.repeat(30) };
    expect(live.send(event)).toBe(true);
    expect(live.send(event)).toBe(true);
    expect(live.send(event)).toBe(false);
    expect(ws.closedWith).toEqual([1008, 'slow_consumer']);
    expect(dropped).toEqual(['slow_consumer']);
    // Closing: later events are dropped, not queued behind the close.
    expect(live.send(event)).toBe(false);
    expect(dropped).toEqual(['slow_consumer', 'closed']);
    expect(ws.sent).toHaveLength(2);
  });

  it('tells onClose listeners once, also those added after the close', () => {
    const { ws, live } = session(100);
    const seen: string[] = [];
    live.onClose((code, reason) => seen.push(`${code} ${reason}`));
    ws.emit('close', 1012, Buffer.from('service_restart'));
    live.onClose((code) => seen.push(`late ${code}`));
    expect(seen).toEqual(['1012 service_restart', 'late 1012']);
  });
});
