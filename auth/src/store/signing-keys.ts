import type { Pool } from 'mysql2/promise';
import type { SigningKeyRecord } from '../domain/key-schedule.js';
import type { LockedRing, SigningKeyStore } from '../domain/signing-keys.js';
import { execute, fromSqlTime, selectRows, toSqlTime, type Db } from '@switchyard/infra';

interface KeyRow {
  kid: string;
  public_jwk: string;
  sealed_private_key: Buffer;
  created_at: string;
  activates_at: string;
}

const toRecord = (row: KeyRow): SigningKeyRecord => ({
  kid: row.kid,
  publicJwk: JSON.parse(row.public_jwk) as SigningKeyRecord['publicJwk'],
  sealedPrivateKey: row.sealed_private_key,
  createdAt: fromSqlTime(row.created_at),
  activatesAt: fromSqlTime(row.activates_at),
});

const LOCK_WAIT_SECONDS = 10;

/** The `signing_keys` table: rows of every key ring, each instance reading its own ring's. */
export class MysqlSigningKeyStore implements SigningKeyStore {
  constructor(private readonly pool: Pool) {}

  list(ringId: string): Promise<SigningKeyRecord[]> {
    return listRing(this.pool, ringId);
  }

  /**
   * GET_LOCK (MySQL and MariaDB alike): a named lock held by one connection, released when it
   * ends, so a crashed instance never leaves the ring locked.
   */
  async withRingLock<T>(ringId: string, change: (ring: LockedRing) => Promise<T>): Promise<T> {
    const name = `switchyard_auth_keys_${ringId}`;
    const connection = await this.pool.getConnection();
    let reusable = true;
    try {
      const [row] = await selectRows<{ locked: number | null }>(connection, 'SELECT GET_LOCK(?, ?) AS locked', [name, LOCK_WAIT_SECONDS]);
      if (row?.locked !== 1) throw new Error(`signing keys: another instance held the key ring's lock for ${LOCK_WAIT_SECONDS} s`);
      try {
        return await change({
          list: () => listRing(connection, ringId),
          insert: (record) => insertKey(connection, ringId, record),
          remove: async (kids) => {
            if (kids.length > 0) await execute(connection, 'DELETE FROM signing_keys WHERE ring_id = ? AND kid IN (?)', [ringId, kids]);
          },
        });
      } finally {
        // A connection that may still hold the lock must not go back to the pool.
        await selectRows(connection, 'SELECT RELEASE_LOCK(?)', [name]).catch(() => (reusable = false));
      }
    } finally {
      if (reusable) connection.release();
      else connection.destroy();
    }
  }
}

async function listRing(db: Db, ringId: string): Promise<SigningKeyRecord[]> {
  const rows = await selectRows<KeyRow>(
    db,
    'SELECT kid, public_jwk, sealed_private_key, created_at, activates_at FROM signing_keys WHERE ring_id = ? ORDER BY activates_at, kid',
    [ringId],
  );
  return rows.map(toRecord);
}

async function insertKey(db: Db, ringId: string, record: SigningKeyRecord): Promise<void> {
  await execute(
    db,
    'INSERT INTO signing_keys (kid, ring_id, public_jwk, sealed_private_key, created_at, activates_at) VALUES (?, ?, ?, ?, ?, ?)',
    [record.kid, ringId, JSON.stringify(record.publicJwk), record.sealedPrivateKey, toSqlTime(record.createdAt), toSqlTime(record.activatesAt)],
  );
}
