import { hash, parseOptions, verify, type Options } from '@node-rs/argon2';

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

export class PasswordHasher {
  /** A real hash of nothing anybody knows, verified when the email is unknown (see verifyOrWaste). */
  private readonly decoy: Promise<string>;

  constructor(private readonly parameters: Options = ARGON2_PARAMETERS) {
    this.decoy = hash(`decoy ${Math.random()}`, parameters);
  }

  hash(password: string): Promise<string> {
    return hash(normalized(password), this.parameters);
  }

  /**
   * Whether `password` matches `stored`; with no stored hash (an unknown email) it verifies
   * against the decoy and answers false. Both cases cost one argon2 verify, so the answer time
   * does not tell whether an account exists.
   */
  async verifyOrWaste(stored: string | undefined, password: string): Promise<boolean> {
    if (stored === undefined) {
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
  isOutdated(stored: string): boolean {
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
