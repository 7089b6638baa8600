import { HttpError, type AuthenticatedUser } from '@switchyard/infra';
import { describe, expect, it } from 'vitest';
import { VerifiedTokens } from './verified-tokens.js';

/** A token-shaped string whose payload carries `exp` (seconds); the fake verifier decides validity. */
function token(exp: number, tag = 'x'): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'EdDSA' })}.${part({ sub: tag, exp })}.signature-${tag}`;
}

/** Accepts every token but those it is told to refuse, counting its verifications. */
function fakeVerifier(refused: Set<string> = new Set()) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    async verify(value: string): Promise<AuthenticatedUser> {
      calls += 1;
      if (refused.has(value)) throw new HttpError(401, 'invalid_token', 'no');
      return { id: `user-of-${value.slice(-3)}`, sessionId: 's' };
    },
  };
}

const inAnHour = () => Math.floor(Date.now() / 1000) + 3_600;

describe('VerifiedTokens', () => {
  it('verifies a token once, then answers from memory with the same user', async () => {
    const verifier = fakeVerifier();
    const tokens = new VerifiedTokens(verifier);
    const value = token(inAnHour());
    const first = await tokens.verify(value);
    expect(tokens.recall(value)).toEqual(first);
    expect(await tokens.verify(value)).toEqual(first);
    expect(verifier.calls).toBe(1);
  });

  it("recalls a remembered token from the header 'Bearer <token>' as sent, and nothing from any other spelling", async () => {
    const tokens = new VerifiedTokens(fakeVerifier());
    const value = token(inAnHour());
    expect(tokens.recallHeader(`Bearer ${value}`)).toBeUndefined();
    const user = await tokens.verify(value);
    expect(tokens.recallHeader(`Bearer ${value}`)).toEqual(user);
    // Other spellings the header's grammar may or may not allow: parsed the slow way, never guessed here.
    for (const header of [undefined, value, `bearer ${value}`, `Bearer  ${value}`, `Bearer ${value} `, `Basic ${value}`, 'Bearer ']) {
      expect(tokens.recallHeader(header), String(header)).toBeUndefined();
    }
  });

  it('never remembers a refusal', async () => {
    const value = token(inAnHour());
    const verifier = fakeVerifier(new Set([value]));
    const tokens = new VerifiedTokens(verifier);
    await expect(tokens.verify(value)).rejects.toMatchObject({ status: 401 });
    expect(tokens.recall(value)).toBeUndefined();
    await expect(tokens.verify(value)).rejects.toMatchObject({ status: 401 });
    expect(verifier.calls).toBe(2);
  });

  it('forgets a token at its expiry, and after the time to live', async () => {
    const expired = token(Math.floor(Date.now() / 1000) - 1);
    const verifier = fakeVerifier();
    await new VerifiedTokens(verifier).verify(expired);
    const tokens = new VerifiedTokens(verifier);
    await tokens.verify(expired);
    expect(tokens.recall(expired)).toBeUndefined();

    const noTtl = new VerifiedTokens(verifier, { ttlMs: 0 });
    const fresh = token(inAnHour());
    await noTtl.verify(fresh);
    expect(noTtl.recall(fresh)).toBeUndefined();
  });

  it('remembers at most maxEntries tokens, dropping the oldest', async () => {
    const tokens = new VerifiedTokens(fakeVerifier(), { maxEntries: 2 });
    const [a, b, c] = ['aaa', 'bbb', 'ccc'].map((tag) => token(inAnHour(), tag)) as [string, string, string];
    for (const value of [a, b, c]) await tokens.verify(value);
    expect(tokens.recall(a)).toBeUndefined();
    expect(tokens.recall(b)).toBeDefined();
    expect(tokens.recall(c)).toBeDefined();
  });

  it('tells apart tokens that end alike (the memory is keyed by their last characters): never one user for another', async () => {
    let calls = 0;
    const byToken = { verify: async (value: string): Promise<AuthenticatedUser> => ({ id: `user-${++calls}-${value.slice(0, 1)}`, sessionId: 's' }) };
    const tokens = new VerifiedTokens(byToken);
    // Another first segment, the same payload and signature: the same last characters.
    const shared = token(inAnHour());
    const [a, b] = ['A', 'B'].map((first) => `${first}${shared.slice(shared.indexOf('.'))}`) as [string, string];
    const userA = await tokens.verify(a);
    expect(tokens.recall(b)).toBeUndefined();
    expect(tokens.recallHeader(`Bearer ${b}`)).toBeUndefined();
    const userB = await tokens.verify(b);
    expect(userB.id).not.toBe(userA.id);
    // b took a's place: a is verified again, and each token only ever answers with its own user.
    expect(tokens.recall(b)).toEqual(userB);
    expect(tokens.recallHeader(`Bearer ${b}`)).toEqual(userB);
    expect(tokens.recall(a)).toBeUndefined();
    expect(tokens.recallHeader(`Bearer ${a}`)).toBeUndefined();
    expect(await tokens.verify(a)).not.toEqual(userB);
    expect(calls).toBe(3);
  });

  it('answers a header only when all of it is `Bearer ` and the remembered token', async () => {
    const tokens = new VerifiedTokens(fakeVerifier());
    const value = token(inAnHour());
    const user = await tokens.verify(value);
    expect(tokens.recallHeader(`Bearer ${value}`)).toEqual(user);
    // The same last characters, with another start: the key matches, the comparison does not.
    for (const header of [`Bearer x${value}`, `Bearer ${value.slice(1)}`, `Token ${value}`, value.slice(-40)]) {
      expect(tokens.recallHeader(header), header).toBeUndefined();
    }
  });
});
