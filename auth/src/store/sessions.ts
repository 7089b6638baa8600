import type { Pool } from 'mysql2/promise';
import type { RotationDecision, StoredRefreshToken } from '../domain/refresh-tokens.js';
import type { ExpiredSessionStore } from '../domain/session-purge.js';
import type { IssuedRefreshToken, SessionStore } from '../domain/sessions.js';
import { execute, fromSqlTime, inTransaction, selectRows, toSqlTime, type Db } from '@switchyard/infra';

interface TokenRow {
  session_id: string;
  user_id: string;
  expires_at: string;
  rotated_at: string | null;
  revoked_at: string | null;
}

const toStored = (row: TokenRow): StoredRefreshToken => ({
  sessionId: row.session_id,
  userId: row.user_id,
  expiresAt: fromSqlTime(row.expires_at),
  rotatedAt: row.rotated_at === null ? null : fromSqlTime(row.rotated_at),
  sessionRevokedAt: row.revoked_at === null ? null : fromSqlTime(row.revoked_at),
});

/** `sessions` holds the families, `refresh_tokens` every token a family was given (by SHA-256). */
export class MysqlSessionStore implements SessionStore, ExpiredSessionStore {
  constructor(private readonly pool: Pool) {}

  async create(session: { id: string; userId: string; createdAt: number }, token: IssuedRefreshToken): Promise<void> {
    await inTransaction(this.pool, async (connection) => {
      await execute(connection, 'INSERT INTO sessions (id, user_id, created_at) VALUES (?, ?, ?)', [session.id, session.userId, toSqlTime(session.createdAt)]);
      await insertToken(connection, session.id, token);
    });
  }

  async rotate(
    hash: Buffer,
    decide: (found: StoredRefreshToken | undefined) => RotationDecision,
    next: IssuedRefreshToken,
    now: number,
  ): Promise<{ decision: RotationDecision; found: StoredRefreshToken | undefined }> {
    // An unknown token needs no transaction; and a locking read of a missing key would take a
    // gap lock that makes concurrent token inserts deadlock.
    const [known] = await selectRows<{ session_id: string }>(this.pool, 'SELECT session_id FROM refresh_tokens WHERE token_hash = ?', [hash]);
    if (!known) return { decision: decide(undefined), found: undefined };
    return inTransaction(this.pool, async (connection) => {
      // The family's row first, then the token's: every rotation and revocation of a family
      // queues on the same lock in the same order, so two presentations of one token are judged
      // one after the other (the second sees the first's rotation) and never deadlock.
      await selectRows(connection, 'SELECT id FROM sessions WHERE id = ? FOR UPDATE', [known.session_id]);
      const [row] = await selectRows<TokenRow>(
        connection,
        `SELECT t.session_id, s.user_id, t.expires_at, t.rotated_at, s.revoked_at
           FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
          WHERE t.token_hash = ? FOR UPDATE`,
        [hash],
      );
      const found = row && toStored(row);
      const decision = decide(found);
      if (decision.kind === 'rotate' && found) {
        await execute(connection, 'UPDATE refresh_tokens SET rotated_at = ? WHERE token_hash = ?', [toSqlTime(now), hash]);
        await insertToken(connection, found.sessionId, next);
      } else if (decision.kind === 'revoke_family' && found) {
        await revoke(connection, found.sessionId, now, 'refresh_token_reused');
      }
      return { decision, found };
    });
  }

  async revokeFamilyOf(hash: Buffer, userId: string, now: number, reason: string): Promise<boolean> {
    const result = await execute(
      this.pool,
      `UPDATE sessions s JOIN refresh_tokens t ON t.session_id = s.id
          SET s.revoked_at = ?, s.revoke_reason = ?
        WHERE t.token_hash = ? AND s.user_id = ? AND s.revoked_at IS NULL`,
      [toSqlTime(now), reason, hash, userId],
    );
    return result.affectedRows > 0;
  }

  async deleteExpiredTokens(expiredBefore: number, limit: number): Promise<number> {
    // refresh_tokens_expiry (migration 0005) finds them without reading the table.
    const result = await execute(this.pool, 'DELETE FROM refresh_tokens WHERE expires_at < ? LIMIT ?', [toSqlTime(expiredBefore), limit]);
    return result.affectedRows;
  }

  async deleteEmptySessions(createdBefore: number, limit: number): Promise<number> {
    // A session and its first token are inserted in one transaction, so no session is ever seen
    // empty before its token; createdBefore only keeps the statement off the newest rows.
    const result = await execute(
      this.pool,
      `DELETE FROM sessions
        WHERE created_at < ? AND NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.session_id = sessions.id)
        LIMIT ?`,
      [toSqlTime(createdBefore), limit],
    );
    return result.affectedRows;
  }
}

function insertToken(db: Db, sessionId: string, token: IssuedRefreshToken) {
  return execute(db, 'INSERT INTO refresh_tokens (token_hash, session_id, issued_at, expires_at) VALUES (?, ?, ?, ?)', [
    token.hash,
    sessionId,
    toSqlTime(token.issuedAt),
    toSqlTime(token.expiresAt),
  ]);
}

function revoke(db: Db, sessionId: string, now: number, reason: string) {
  return execute(db, 'UPDATE sessions SET revoked_at = ?, revoke_reason = ? WHERE id = ? AND revoked_at IS NULL', [toSqlTime(now), reason, sessionId]);
}
