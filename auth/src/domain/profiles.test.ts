import { describe, expect, it } from 'vitest';
import { AuthError } from './errors.js';
import { decodeCursor, encodeCursor, ownProfile, publicProfile, type UserRecord } from './profiles.js';

const ID = '0b7c5f1e-3a2d-4c8e-9f10-2b3c4d5e6f70';

describe('profiles', () => {
  it('the public view has no email; the own view has it; neither has anything else', () => {
    const user: UserRecord = {
      id: ID, email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace', birthday: '1815-12-10',
      gender: null, city: 'London', interests: null, createdAt: Date.UTC(2024, 0, 2, 3, 4, 5, 6),
    };
    expect(publicProfile(user)).toEqual({
      id: ID, firstName: 'Ada', lastName: 'Lovelace', birthday: '1815-12-10', gender: null, city: 'London', interests: null,
      createdAt: '2024-01-02T03:04:05.006Z',
    });
    expect(ownProfile(user)).toEqual({ ...publicProfile(user), email: 'ada@example.com' });
  });

  it('cursors round-trip for their own order and are refused otherwise', () => {
    expect(decodeCursor(encodeCursor('last', ID), 'last')).toBe(ID);
    const invalid = [encodeCursor('first', ID), 'not base64!', '', Buffer.from(`last:${ID}:x`).toString('base64url'), Buffer.from("last:' OR 1=1").toString('base64url')];
    for (const cursor of invalid) {
      expect(() => decodeCursor(cursor, 'last'), cursor).toThrow(AuthError);
    }
  });
});
