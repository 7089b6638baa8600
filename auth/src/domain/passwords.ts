import type { Options } from '@node-rs/argon2';

type Argon2 = typeof import('@node-rs/argon2');
let argon2Module: Promise<Argon2> | undefined;

/**
 * @node-rs/argon2, loaded at the first hash or verify rather than at start: its native module
 * is ~3.2 MiB of RSS that an idle instance (and every instance between sign-ins) would otherwise
 * hold from its first second (BENCHMARKS.md, "Footprint").
 */
const argon2 = (): Promise<Argon2> => (argon2Module ??= import('@node-rs/argon2'));

/**
 * Password hashing: argon2id with OWASP's first recommended configuration (m = 19 MiB, t = 2,
 * p = 1), about 50 ms of one core here. @node-rs/argon2 computes on libuv's thread pool, so a
 * hash never blocks the event loop, and its verify compares in constant time.
 */
export const ARGON2_PARAMETERS = {
  algorithm: 2, // Algorithm.Argon2id (a const enum, which isolatedModules cannot import)
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const satisfies Options;

/**
 * NIST SP 800-63B: normalize before hashing, so the same password typed on two keyboards (é as
 * one code point or as e + accent) is the same password.
 */
const normalized = (password: string) => password.normalize('NFKC');

/**
 * The decoy for ARGON2_PARAMETERS: an argon2id hash of 32 random bytes that were thrown away once
 * it was made, so nobody knows a password it matches (and verifyOrWaste answers false for an
 * unknown email whatever the verify says). A constant, so start-up hashes nothing and the first
 * unknown email costs one verify like every other (passwords.test.ts checks its parameters).
 */
export const DECOY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$mJS07dC6+ePLA39aE8W1Zw$hD9JZ5jMhlwbSY0Nc02v/uCjX+g0US2OUOAAnaBf/7U';

export class PasswordHasher {
  /** A hash of nothing anybody knows, with these parameters, verified when the email is unknown (see verifyOrWaste). */
  private decoy: Promise<string> | undefined;

  constructor(private readonly parameters: Options = ARGON2_PARAMETERS) {
    if (parameters === ARGON2_PARAMETERS) this.decoy = Promise.resolve(DECOY_HASH);
  }

  async hash(password: string): Promise<string> {
    return (await argon2()).hash(normalized(password), this.parameters);
  }

  /**
   * Whether `password` matches `stored`; with no stored hash (an unknown email) it verifies
   * against the decoy and answers false. Both cases cost one argon2 verify, so the answer time
   * does not tell whether an account exists.
   */
  async verifyOrWaste(stored: string | undefined, password: string): Promise<boolean> {
    const { verify } = await argon2();
    if (stored === undefined) {
      this.decoy ??= this.hash(`decoy ${Math.random()}`);
      await verify(await this.decoy, normalized(password));
      return false;
    }
    try {
      return await verify(stored, normalized(password));
    } catch {
      // A malformed stored hash is a broken account, not a reason to answer 500 to its owner.
      return false;
    }
  }

  /** Whether `stored` was made with other parameters than today's: rehash it at the next sign-in. */
  async isOutdated(stored: string): Promise<boolean> {
    const { parseOptions } = await argon2();
    try {
      const used = parseOptions(stored);
      return (
        used.algorithm !== this.parameters.algorithm ||
        used.memoryCost !== this.parameters.memoryCost ||
        used.timeCost !== this.parameters.timeCost ||
        used.parallelism !== this.parameters.parallelism
      );
    } catch {
      return true;
    }
  }
}
