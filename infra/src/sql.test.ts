import type { Pool, PoolConnection } from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { inTransaction } from './sql.js';

/** A pool whose connections record what was asked of them (the transaction protocol only). */
function recordingPool() {
  const calls: string[] = [];
  const connection = {
    beginTransaction: async () => void calls.push('begin'),
    commit: async () => void calls.push('commit'),
    rollback: async () => void calls.push('rollback'),
    release: () => void calls.push('release'),
    destroy: () => void calls.push('destroy'),
  } as unknown as PoolConnection;
  const pool = { getConnection: async () => connection } as unknown as Pool;
  return { pool, calls };
}

const lockError = (code: string) => Object.assign(new Error(code), { code });

describe('inTransaction', () => {
  it('runs a deadlocked transaction again, on a fresh begin, until it commits', async () => {
    const { pool, calls } = recordingPool();
    let runs = 0;
    const result = await inTransaction(pool, async () => {
      runs += 1;
      if (runs < 3) throw lockError(runs === 1 ? 'ER_LOCK_DEADLOCK' : 'ER_LOCK_WAIT_TIMEOUT');
      return 'done';
    });
    expect(result).toBe('done');
    expect(calls).toEqual(['begin', 'rollback', 'release', 'begin', 'rollback', 'release', 'begin', 'commit', 'release']);
  });

  it('gives up after three deadlocks and throws the last one', async () => {
    const { pool } = recordingPool();
    let runs = 0;
    await expect(
      inTransaction(pool, async () => {
        runs += 1;
        throw lockError('ER_LOCK_DEADLOCK');
      }),
    ).rejects.toMatchObject({ code: 'ER_LOCK_DEADLOCK' });
    expect(runs).toBe(3);
  });

  it('never repeats work that failed for another reason', async () => {
    const { pool, calls } = recordingPool();
    let runs = 0;
    await expect(
      inTransaction(pool, async () => {
        runs += 1;
        throw lockError('ER_DUP_ENTRY');
      }),
    ).rejects.toMatchObject({ code: 'ER_DUP_ENTRY' });
    expect(runs).toBe(1);
    expect(calls).toEqual(['begin', 'rollback', 'release']);
  });
});
