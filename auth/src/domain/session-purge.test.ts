import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { SessionPurge, type ExpiredSessionStore } from './session-purge.js';

const NOW = Date.parse('2026-11-28T00:00:00Z');
const logger = pino({ level: 'silent' });

/** Rows to delete, handed out `limit` at a time, and every call the purge made. */
function rows(tokens: number, sessions: number, failFirst = false) {
  const calls: string[] = [];
  let fail = failFirst;
  const store: ExpiredSessionStore = {
    async deleteExpiredTokens(before, limit) {
      calls.push(`tokens<${new Date(before).toISOString()} limit ${limit}`);
      if (fail) {
        fail = false;
        throw new Error('connection lost');
      }
      const n = Math.min(limit, tokens);
      tokens -= n;
      return n;
    },
    async deleteEmptySessions(before, limit) {
      calls.push(`sessions<${new Date(before).toISOString()} limit ${limit}`);
      const n = Math.min(limit, sessions);
      sessions -= n;
      return n;
    },
  };
  return { store, calls, left: () => ({ tokens, sessions }) };
}

describe('SessionPurge', () => {
  it('deletes in batches until one comes back short, tokens first, everything expired before now minus the kept margin', async () => {
    const { store, calls, left } = rows(5, 2);
    const purge = new SessionPurge(store, { everyMs: 60_000, keepExpiredMs: 86_400_000, batch: 2 }, logger, () => NOW);
    expect(await purge.runOnce()).toEqual({ tokens: 5, sessions: 2 });
    expect(left()).toEqual({ tokens: 0, sessions: 0 });
    const cutoff = '2026-11-27T00:00:00.000Z';
    expect(calls).toEqual([
      `tokens<${cutoff} limit 2`,
      `tokens<${cutoff} limit 2`,
      `tokens<${cutoff} limit 2`,
      `sessions<${cutoff} limit 2`,
      // A full batch may not be the last: one more to see a short one.
      `sessions<${cutoff} limit 2`,
    ]);
  });

  it('runs a pass every interval after a random first wait, survives a failed pass, and stops when told', async () => {
    const { store, calls } = rows(3, 1, true);
    const purge = new SessionPurge(store, { everyMs: 20, keepExpiredMs: 0, batch: 10 }, logger, () => NOW, () => 0.5);
    const stop = new AbortController();
    purge.start(stop.signal);
    purge.start(stop.signal); // a second start is the same loop
    // The first pass fails (its error is logged), the next ones run.
    await expect.poll(() => calls.filter((call) => call.startsWith('sessions')).length, { timeout: 5_000 }).toBeGreaterThanOrEqual(2);
    expect(calls[0]).toMatch(/^tokens/);
    expect(calls[1]).toMatch(/^tokens/);
    // stopped() resolves only once the loop returned: no pass starts after it.
    stop.abort();
    await purge.stopped();
  });
});
