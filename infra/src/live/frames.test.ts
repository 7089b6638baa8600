import { describe, expect, it } from 'vitest';
import { CLOSE, classifyFrame, closeReason } from './frames.js';

const text = (value: string) => Buffer.from(value, 'utf8');
const known = new Set(['typing']);

describe('inbound live frames', () => {
  it('closes 1007 invalid_json on a text frame that is not JSON', () => {
    expect(classifyFrame(text('{"type":'), false, known)).toEqual({ action: 'close', code: CLOSE.invalidPayload, reason: 'invalid_json' });
    expect(classifyFrame(text(''), false, known)).toMatchObject({ action: 'close', code: 1007 });
  });

  it('closes 1003 on a binary frame: the protocol is JSON text', () => {
    expect(classifyFrame(text('{"type":"ping"}'), true, known)).toEqual({ action: 'close', code: 1003, reason: 'binary_not_supported' });
  });

  it.each(['1', '"ping"', 'null', '[]', '{}', '{"type":1}', '{"type":null}'])('answers unknown_event, without closing, to JSON %s that is no event', (frame) => {
    expect(classifyFrame(text(frame), false, known)).toMatchObject({ action: 'error', code: 'unknown_event' });
  });

  it('answers an unknown type with an error event naming it (cut short)', () => {
    const verdict = classifyFrame(text(JSON.stringify({ type: 'x'.repeat(500) })), false, known);
    expect(verdict).toMatchObject({ action: 'error', code: 'unknown_event' });
    expect((verdict as { message: string }).message.length).toBeLessThan(120);
  });

  it('pongs a ping whatever the service knows', () => {
    expect(classifyFrame(text('{"type":"ping"}'), false, new Set())).toEqual({ action: 'pong' });
    expect(classifyFrame(text('{"type":"ping"}'), false, 'any')).toEqual({ action: 'pong' });
  });

  it("delivers the service's own types", () => {
    expect(classifyFrame(text('{"type":"typing","chatId":"1"}'), false, known)).toEqual({ action: 'deliver', event: { type: 'typing', chatId: '1' } });
    expect(classifyFrame(text('{"type":"anything"}'), false, 'any')).toMatchObject({ action: 'deliver' });
    expect(classifyFrame(text('{"type":"typing"}'), false, new Set())).toMatchObject({ action: 'error' });
  });

  it('fits close reasons in 123 bytes without splitting a character', () => {
    expect(closeReason('slow_consumer')).toBe('slow_consumer');
    expect(Buffer.byteLength(closeReason('a'.repeat(200)))).toBe(123);
    const cut = closeReason('é'.repeat(100));
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(123);
    expect(cut).toBe('é'.repeat(61));
  });
});
