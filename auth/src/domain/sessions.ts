import { randomUUID } from 'node:crypto';
import type { Logger } from '@switchyard/infra';
import type { AccessTokens } from './access-tokens.js';
import { invalidRefreshToken } from './errors.js';
import { decideRotation, newRefreshToken, refreshTokenHash, type RotationDecision, type StoredRefreshToken } from './refresh-tokens.js';

export interface IssuedRefreshToken {
  hash: Buffer;
  issuedAt: number;
  expiresAt: number;
}

export interface SessionStore {
  /** A new family holding its first refresh token. */
  create(session: { id: string; userId: string; createdAt: number }, token: IssuedRefreshToken): Promise<void>;
  /**
   * In one transaction, holding the token's and its family's rows: reads the token, asks `decide`,
   * and applies the decision (rotate: mark it rotated and insert `next`; revoke_family: revoke).
   */
  rotate(
    hash: Buffer,
    decide: (found: StoredRefreshToken | undefined) => RotationDecision,
    next: IssuedRefreshToken,
    now: number,
  ): Promise<{ decision: RotationDecision; found: StoredRefreshToken | undefined }>;
  /** Revokes the family of the token `hash` if it belongs to `userId`; false when there is none. */
  revokeFamilyOf(hash: Buffer, userId: string, now: number, reason: string): Promise<boolean>;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

/**
 * Session families: a sign-in starts one; each refresh trades the presented refresh token for a
 * new pair (rotation); an already-traded token coming back means two parties hold the family's
 * tokens, so the whole family is revoked (theft detection). Sign-out revokes the family.
 */
export class Sessions {
  constructor(
    private readonly store: SessionStore,
    private readonly accessTokens: AccessTokens,
    private readonly refreshLifetimeMs: number,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  async start(userId: string): Promise<TokenPair> {
    const now = this.now();
    const sessionId = randomUUID();
    const refresh = newRefreshToken();
    await this.store.create({ id: sessionId, userId, createdAt: now }, this.issued(refresh.hash, now));
    return this.pair({ userId, sessionId }, refresh.token);
  }

  async refresh(refreshToken: string): Promise<TokenPair> {
    const now = this.now();
    const next = newRefreshToken();
    const { decision, found } = await this.store.rotate(
      refreshTokenHash(refreshToken),
      (stored) => decideRotation(stored, now),
      this.issued(next.hash, now),
      now,
    );
    if (decision.kind === 'rotate' && found) return this.pair(found, next.token);
    if (decision.kind === 'revoke_family') {
      this.logger.warn({ sessionId: found?.sessionId, userId: found?.userId }, 'a rotated refresh token was presented again: session family revoked');
      throw invalidRefreshToken('this refresh token was already used; its session is revoked, sign in again');
    }
    throw invalidRefreshToken();
  }

  /** Signs out the family of `refreshToken`, if it is the caller's. Idempotent: unknown tokens change nothing. */
  async signOut(userId: string, refreshToken: string): Promise<void> {
    await this.store.revokeFamilyOf(refreshTokenHash(refreshToken), userId, this.now(), 'sign_out');
  }

  private issued(hash: Buffer, now: number): IssuedRefreshToken {
    return { hash, issuedAt: now, expiresAt: now + this.refreshLifetimeMs };
  }

  private async pair(subject: { userId: string; sessionId: string }, refreshToken: string): Promise<TokenPair> {
    const { accessToken, expiresIn } = await this.accessTokens.issue(subject);
    return { accessToken, refreshToken, expiresIn };
  }
}
