import { describe, expect, it } from 'vitest';
import { carriesBody, relayedContentLength } from './proxy.js';

describe('the length and body the gateway relays', () => {
  it('states the relayed bytes for an answer with a body', () => {
    expect(carriesBody('GET', 200)).toBe(true);
    expect(relayedContentLength('GET', 200, '32', 32)).toBe(32);
    expect(relayedContentLength('POST', 404, undefined, 75)).toBe(75);
  });

  it('passes the upstream length through for HEAD and 304, which have no body', () => {
    expect(carriesBody('HEAD', 200)).toBe(false);
    expect(relayedContentLength('HEAD', 200, '32', 0)).toBe('32');
    expect(carriesBody('GET', 304)).toBe(false);
    expect(relayedContentLength('GET', 304, '1234', 0)).toBe('1234');
    // Unknown upstream length: none rather than a false 0.
    expect(relayedContentLength('HEAD', 200, undefined, 0)).toBeUndefined();
  });

  it('never states a length for 204 or 1xx, even when the upstream did', () => {
    expect(carriesBody('GET', 204)).toBe(false);
    expect(relayedContentLength('GET', 204, '0', 0)).toBeUndefined();
    expect(relayedContentLength('HEAD', 204, '0', 0)).toBeUndefined();
    expect(relayedContentLength('GET', 103, undefined, 0)).toBeUndefined();
  });
});
