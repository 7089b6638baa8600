import { describe, expect, it } from 'vitest';
import { activationOfNewKey, keySchedule, type SchedulePolicy, type SigningKeyRecord } from './key-schedule.js';

const MIN = 60_000;
const policy: SchedulePolicy = { rotateAfterMs: 1_000 * MIN, tokenLifetimeMs: 15 * MIN, retiredMarginMs: 5 * MIN, publishAheadMs: 2 * MIN };
const key = (kid: string, activatesAt: number): SigningKeyRecord => ({
  kid,
  activatesAt,
  createdAt: activatesAt,
  publicJwk: { kty: 'OKP', crv: 'Ed25519', x: kid },
  sealedPrivateKey: Buffer.alloc(0),
});
const kids = (records: SigningKeyRecord[]) => records.map((record) => record.kid);

describe('keySchedule', () => {
  it('wants a first key for an empty ring, which signs at once', () => {
    const schedule = keySchedule([], 0, policy);
    expect(schedule).toMatchObject({ signing: undefined, published: [], needsNewKey: true });
    expect(activationOfNewKey([], 1_000, policy)).toBe(1_000);
  });

  it('signs with the newest active key and publishes a successor before it signs', () => {
    const records = [key('b', 100 * MIN), key('a', 0)];
    const before = keySchedule(records, 99 * MIN, policy);
    expect(before.signing?.kid).toBe('a');
    expect(kids(before.published)).toEqual(['a', 'b']);
    const after = keySchedule(records, 100 * MIN, policy);
    expect(after.signing?.kid).toBe('b');
    expect(activationOfNewKey(records, 5 * MIN, policy)).toBe(7 * MIN);
  });

  it('keeps a retired key published until its last token expired, plus the margin, then expires it', () => {
    const records = [key('a', 0), key('b', 100 * MIN)];
    const retiredUntil = 100 * MIN + policy.tokenLifetimeMs + policy.retiredMarginMs;
    expect(kids(keySchedule(records, retiredUntil - 1, policy).published)).toEqual(['a', 'b']);
    const later = keySchedule(records, retiredUntil, policy);
    expect(kids(later.published)).toEqual(['b']);
    expect(kids(later.expired)).toEqual(['a']);
  });

  it('asks for a successor once the newest key has signed for rotateAfterMs, not while one is pending', () => {
    expect(keySchedule([key('a', 0)], policy.rotateAfterMs - 1, policy).needsNewKey).toBe(false);
    expect(keySchedule([key('a', 0)], policy.rotateAfterMs, policy).needsNewKey).toBe(true);
    const pending = [key('a', 0), key('b', policy.rotateAfterMs + policy.publishAheadMs)];
    expect(keySchedule(pending, policy.rotateAfterMs + 1, policy).needsNewKey).toBe(false);
  });

  it('lets a first key made by an instance whose clock runs ahead sign anyway', () => {
    const schedule = keySchedule([key('a', 10_000)], 9_000, policy);
    expect(schedule.signing?.kid).toBe('a');
  });

  it('breaks a tie in activation by kid, so every instance picks the same key', () => {
    const records = [key('y', 0), key('x', 0)];
    expect(keySchedule(records, 1, policy).signing?.kid).toBe('y');
    expect(keySchedule([...records].reverse(), 1, policy).signing?.kid).toBe('y');
  });
});
