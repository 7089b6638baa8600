import { describe, expect, it } from 'vitest';
import { decideRotation, newRefreshToken, refreshTokenHash, type StoredRefreshToken } from './refresh-tokens.js';

const live: StoredRefreshToken = { sessionId: 's', userId: 'u', expiresAt: 1_000, rotatedAt: null, sessionRevokedAt: null };

describe('refresh tokens', () => {
  it('are 32 random bytes in base64url, stored as their SHA-256', () => {
    const { token, hash } = newRefreshToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(hash).toEqual(refreshTokenHash(token));
    expect(hash).toHaveLength(32);
    expect(newRefreshToken().token).not.toBe(token);
  });

  it('rotate while live; a rotated one revokes the family; unknown, revoked and expired ones are refused', () => {
    expect(decideRotation(live, 999)).toEqual({ kind: 'rotate' });
    expect(decideRotation({ ...live, rotatedAt: 500 }, 999)).toEqual({ kind: 'revoke_family' });
    // Reuse detection does not wait for the copy to expire: it is theft either way.
    expect(decideRotation({ ...live, rotatedAt: 500 }, 5_000)).toEqual({ kind: 'revoke_family' });
    expect(decideRotation(undefined, 0)).toEqual({ kind: 'reject', reason: 'unknown' });
    expect(decideRotation({ ...live, rotatedAt: 500, sessionRevokedAt: 600 }, 999)).toEqual({ kind: 'reject', reason: 'revoked' });
    expect(decideRotation(live, 1_000)).toEqual({ kind: 'reject', reason: 'expired' });
  });
});
