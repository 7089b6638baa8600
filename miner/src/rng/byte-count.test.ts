import { HttpError } from '@switchyard/infra';
import { describe, expect, it } from 'vitest';
import { parseByteCount } from './byte-count.js';

describe('parseByteCount', () => {
  it('accepts 1 to 1024', () => {
    expect(parseByteCount('1')).toBe(1);
    expect(parseByteCount('32')).toBe(32);
    expect(parseByteCount('1024')).toBe(1024);
    expect(parseByteCount('0032')).toBe(32);
  });

  it.each(['0', '1025', '99999', '-1', '1.5', '1e3', '0x10', '12abc', '', ' 12', '100000000000000000000'])(
    'refuses %j with a 400 naming the rule',
    (raw) => {
      let error: unknown;
      try {
        parseByteCount(raw);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(HttpError);
      expect((error as HttpError).status).toBe(400);
      expect((error as HttpError).message).toMatch(/from 1 to 1024/);
    },
  );
});
