import { createHash } from 'node:crypto';
import { TooManyAttempts } from './errors.js';

/** A shared count of sign-in attempts per key over a fixed window (Redis in production). */
export interface AttemptCounter {
  /** Counts one attempt: the attempts in the window so far, or how long the key is refused. */
  hit(key: string): Promise<{ attempts: number } | { refusedForMs: number }>;
  /** Takes one attempt back (it succeeded). */
  forgive(key: string): Promise<void>;
  /** Forgets the key's attempts. */
  clear(key: string): Promise<void>;
}

type Hit = Awaited<ReturnType<AttemptCounter['hit']>>;
const isRefused = (hit: Hit): hit is { refusedForMs: number } => 'refusedForMs' in hit;

export interface ThrottleLimits {
  /** Failed sign-ins per email per window before sign-in answers 429. */
  perEmail: number;
  /** Failed sign-ins per client address per window: higher, one address may front many people (NAT). */
  perClient: number;
}

const STEP_MS = 250;
const MAX_DELAY_MS = 2_000;

/**
 * How long to hold an attempt back: nothing for the first ~30 % of the limit (typos), then
 * 250 ms more per attempt, at most 2 s (below the gateway's timeout for a sign-in). Slowing down
 * first costs a guessing script most of its speed long before anybody is locked out.
 */
export function slowdownMs(attempts: number, limit: number): number {
  const free = Math.max(1, Math.ceil(limit * 0.3));
  return Math.min(MAX_DELAY_MS, Math.max(0, attempts - free) * STEP_MS);
}

export interface Admission {
  emailKey: string;
  clientKey: string;
  delayMs: number;
}

/**
 * Login throttling by email and by client address. Every attempt is counted before the password
 * is checked (so parallel guesses are counted too, not only finished failures) and a success
 * takes its attempt back: what remains counts failures. The counters are shared by every auth
 * instance, so adding instances does not multiply an attacker's budget.
 */
export class LoginThrottle {
  constructor(
    private readonly counters: { email: AttemptCounter; client: AttemptCounter },
    private readonly limits: ThrottleLimits,
  ) {}

  /** Counts the attempt; throws TooManyAttempts when either limit is spent. */
  async admit(email: string, clientAddress: string | undefined): Promise<Admission> {
    // The email is hashed: the counters need a stable key, not a list of addresses in Redis.
    const emailKey = createHash('sha256').update(email).digest('base64url');
    const clientKey = clientAddress ?? 'unknown';
    const [byEmail, byClient] = await Promise.all([this.counters.email.hit(emailKey), this.counters.client.hit(clientKey)]);
    if (isRefused(byEmail) || isRefused(byClient)) {
      throw new TooManyAttempts(Math.max(...[byEmail, byClient].filter(isRefused).map((hit) => hit.refusedForMs)));
    }
    const delayMs = Math.max(slowdownMs(byEmail.attempts, this.limits.perEmail), slowdownMs(byClient.attempts, this.limits.perClient));
    return { emailKey, clientKey, delayMs };
  }

  /** A correct password: the email starts afresh, the address gets its attempt back. */
  async succeeded(admission: Admission): Promise<void> {
    await Promise.all([this.counters.email.clear(admission.emailKey), this.counters.client.forgive(admission.clientKey)]);
  }
}
