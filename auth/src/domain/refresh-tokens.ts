import { createHash, randomBytes } from 'node:crypto';

/**
 * Refresh tokens are 32 random bytes (base64url) handed to the client once; the database keeps
 * only their SHA-256. A leaked table then mints nothing, and since the token is 256 bits of
 * randomness, a fast hash is enough (a password needs argon2 because it is guessable).
 * Looking a token up by its hash also means no secret is ever compared byte by byte with a
 * client's input: the index compares digests an attacker cannot steer.
 */
export function newRefreshToken(): { token: string; hash: Buffer } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: refreshTokenHash(token) };
}

export function refreshTokenHash(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** A refresh token as stored, with the state of its session family. */
export interface StoredRefreshToken {
  sessionId: string;
  userId: string;
  expiresAt: number;
  /** Set once the token was traded for a new pair. */
  rotatedAt: number | null;
  /** Set once the family was revoked (sign-out, theft detected). */
  sessionRevokedAt: number | null;
}

export type RotationDecision =
  | { kind: 'rotate' }
  /** An already-rotated token came back: someone holds a copy. Kill the family, both copies. */
  | { kind: 'revoke_family' }
  | { kind: 'reject'; reason: 'unknown' | 'revoked' | 'expired' };

/** What presenting `found` at `now` does. Pure, and taken under the family's row lock. */
export function decideRotation(found: StoredRefreshToken | undefined, now: number): RotationDecision {
  if (!found) return { kind: 'reject', reason: 'unknown' };
  if (found.sessionRevokedAt !== null) return { kind: 'reject', reason: 'revoked' };
  if (found.rotatedAt !== null) return { kind: 'revoke_family' };
  if (found.expiresAt <= now) return { kind: 'reject', reason: 'expired' };
  return { kind: 'rotate' };
}
