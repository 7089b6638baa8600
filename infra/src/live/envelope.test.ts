import { describe, expect, it } from 'vitest';
import { channelFor, decodeEnvelope, encodeEnvelope, topicKind } from './envelope.js';

describe('live event envelopes', () => {
  it('namespaces channels by the stack suffix, so isolated stacks never share events', () => {
    expect(channelFor('', 'user:42')).toBe('live:user:42');
    expect(channelFor('-t-1', 'user:42')).toBe('live:-t-1:user:42');
  });

  it('names a topic by its kind, never by its id', () => {
    expect(topicKind('user:42')).toBe('user');
    expect(topicKind('feed')).toBe('feed');
    expect(topicKind('we ird:1')).toBe('other');
    expect(topicKind(':1')).toBe('other');
  });

  it('round-trips an event with its trace context, and leaves out an empty one', () => {
    const event = { type: 'message', message: { id: '7', text: 'hi' } };
    const trace = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'a=1' };
    expect(decodeEnvelope(encodeEnvelope(event, trace))).toEqual({ event, trace });
    expect(encodeEnvelope(event, {})).toBe(JSON.stringify({ event }));
    expect(decodeEnvelope(encodeEnvelope(event, {}))).toEqual({ event });
  });

  it.each(['', 'not json', '[]', 'null', '{"event":1}', '{"event":[1]}', '{"trace":{}}'])('drops the malformed payload %j', (payload) => {
    expect(decodeEnvelope(payload)).toBeUndefined();
  });

  it('keeps only string entries of a carried trace context', () => {
    expect(decodeEnvelope('{"event":{"type":"x"},"trace":{"traceparent":"t","bad":1}}')).toEqual({ event: { type: 'x' }, trace: { traceparent: 't' } });
    expect(decodeEnvelope('{"event":{"type":"x"},"trace":{"bad":1}}')).toEqual({ event: { type: 'x' } });
  });
});
