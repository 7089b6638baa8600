import { describe, expect, it } from 'vitest';
import { TooManyAttempts } from './errors.js';
import { LoginThrottle, slowdownMs, type AttemptCounter } from './throttle.js';

/** A fixed-window counter in memory, refusing past `limit` like rate-limiter-flexible does. */
class MemoryCounter implements AttemptCounter {
  readonly counts = new Map<string, number>();
  constructor(private readonly limit: number) {}
  async hit(key: string) {
    const attempts = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, attempts);
    return attempts > this.limit ? { refusedForMs: 42_000 } : { attempts };
  }
  async forgive(key: string) {
    this.counts.set(key, (this.counts.get(key) ?? 1) - 1);
  }
  async clear(key: string) {
    this.counts.delete(key);
  }
}

describe('slowdownMs', () => {
  it('lets the first ~30 % of the limit through at once, then grows by 250 ms per attempt up to 2 s', () => {
    expect([1, 2, 3, 4, 5, 10].map((n) => slowdownMs(n, 10))).toEqual([0, 0, 0, 250, 500, 1_750]);
    expect(slowdownMs(1_000, 10)).toBe(2_000);
    expect(slowdownMs(1, 1)).toBe(0);
  });
});

describe('LoginThrottle', () => {
  const setup = (perEmail = 3, perClient = 100) => {
    const email = new MemoryCounter(perEmail);
    const client = new MemoryCounter(perClient);
    return { email, client, throttle: new LoginThrottle({ email, client }, { perEmail, perClient }) };
  };

  it('refuses past the per-email limit with the time to wait, whatever the address', async () => {
    const { throttle } = setup(3);
    for (const address of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) await throttle.admit('ada@example.com', address);
    const refusal = await throttle.admit('ada@example.com', '10.0.0.4').catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(TooManyAttempts);
    expect((refusal as TooManyAttempts).retryAfterMs).toBe(42_000);
    await expect(throttle.admit('grace@example.com', '10.0.0.4')).resolves.toMatchObject({ delayMs: 0 });
  });

  it('refuses past the per-client limit, whatever the email', async () => {
    const { throttle } = setup(100, 2);
    await throttle.admit('a@example.com', '10.0.0.9');
    await throttle.admit('b@example.com', '10.0.0.9');
    await expect(throttle.admit('c@example.com', '10.0.0.9')).rejects.toBeInstanceOf(TooManyAttempts);
  });

  it('a success clears the email and takes its attempt back from the address', async () => {
    const { throttle, email, client } = setup(3);
    await throttle.admit('ada@example.com', '10.0.0.1');
    const admission = await throttle.admit('ada@example.com', '10.0.0.1');
    await throttle.succeeded(admission);
    expect(email.counts.size).toBe(0);
    expect(client.counts.get('10.0.0.1')).toBe(1);
  });

  it('does not keep the email in the counter keys', async () => {
    const { throttle, email } = setup();
    await throttle.admit('ada@example.com', undefined);
    expect([...email.counts.keys()].join()).not.toContain('ada');
  });
});
