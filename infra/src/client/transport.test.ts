import { describe, expect, it } from 'vitest';
import { flattenHeaders } from './transport.js';

describe('flattenHeaders', () => {
  it('keeps Set-Cookie a list (cookies contain commas) and joins other repeated headers', () => {
    const cookies = ['a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT', 'b=2'];
    expect(flattenHeaders({ 'set-cookie': cookies, vary: ['accept', 'origin'], 'content-type': 'text/plain', gone: undefined })).toEqual({
      'set-cookie': cookies,
      vary: 'accept, origin',
      'content-type': 'text/plain',
    });
  });

  it('makes a lone Set-Cookie a one-entry list', () => {
    expect(flattenHeaders({ 'set-cookie': 'a=1' })).toEqual({ 'set-cookie': ['a=1'] });
  });
});
