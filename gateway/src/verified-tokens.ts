/**
 * The edge's token check for HTTP routes with auth 'user', with the verdicts on recent tokens
 * remembered. Verifying an EdDSA signature costs more CPU than the rest of a proxied request put
 * together (it was a third of the gateway's time under load), and a client sends the same access
 * token with every call for its 15 minutes. A token that verified is remembered, by its exact
 * bytes, for at most `ttlMs` (and never past its own `exp`): the same bytes would verify the same
 * way, except that a key auth retired meanwhile is still honoured for up to `ttlMs` (the verifier
 * itself keeps a key set for minutes). Refusals are never remembered. The services behind verify
 * every token again, so nothing the gateway remembers reaches them as trust.
 */
import type { AuthenticatedUser } from '@switchyard/infra';
import type { AccessTokenVerifier } from './access-token.js';

interface Remembered {
  /** The token, compared whole on every lookup: the map's key is only its tail. */
  token: string;
  /** `Bearer <token>`, flat, for the header as clients send it. */
  header: string;
  user: AuthenticatedUser;
  /** Epoch ms after which the token is verified again. */
  until: number;
}

export interface VerifiedTokensOptions {
  /** How long a verdict is reused (default 30 s). */
  ttlMs?: number;
  /** Tokens remembered at most (default 10 000: each entry holds its token and its header, ~1 KB, so up to ~10 MB); the oldest go first. */
  maxEntries?: number;
}

/**
 * Characters of a token's end the memory is keyed by. A Map lookup hashes its key, and a key of
 * the whole token hashed ~300 bytes on every request (~4 500 instructions, 1.8 % of a proxied
 * request's; BENCHMARKS.md "Gateway hop"): the end of a JWS is its signature, which differs from
 * one token to the next, so 32 of its characters tell tokens apart as well as the whole does. The
 * entry holds the whole token, compared on every hit, so two tokens that share an end only take
 * each other's place: neither is ever answered with the other's user.
 */
const KEY_LENGTH = 32;
const keyOf = (value: string) => value.slice(-KEY_LENGTH);

export class VerifiedTokens implements AccessTokenVerifier {
  private readonly remembered = new Map<string, Remembered>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;

  constructor(
    private readonly verifier: AccessTokenVerifier,
    options: VerifiedTokensOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 30_000;
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  /** The user of a token verified within the last `ttlMs` and not expired; undefined otherwise. */
  recall(token: string): AuthenticatedUser | undefined {
    const entry = this.remembered.get(keyOf(token));
    return entry !== undefined && entry.token === token ? this.unexpired(entry) : undefined;
  }

  /**
   * recall for an Authorization header exactly as clients send it, `Bearer <token>`, without
   * parsing it first: the header's regular expression (case-insensitive, over a token of a few
   * hundred bytes) cost more than the lookup. Only a token that verified is remembered, and
   * `Bearer ` + such a token always parses, so a hit is what parsing would have found; any other
   * spelling (another case, more spaces) misses and goes through bearerToken as before.
   */
  recallHeader(header: string | undefined): AuthenticatedUser | undefined {
    if (header === undefined) return undefined;
    // The header ends as its token does: the same key, then the whole header compared.
    const entry = this.remembered.get(keyOf(header));
    return entry !== undefined && entry.header === header ? this.unexpired(entry) : undefined;
  }

  async verify(token: string): Promise<AuthenticatedUser> {
    const user = this.recall(token) ?? (await this.verifier.verify(token));
    this.remember(token, user);
    return user;
  }

  private unexpired(entry: Remembered): AuthenticatedUser | undefined {
    if (entry.until > Date.now()) return entry.user;
    this.remembered.delete(keyOf(entry.token));
    return undefined;
  }

  private remember(token: string, user: AuthenticatedUser): void {
    // Shorter than a key, `Bearer <token>` would not end with the token's key: not remembered
    // (no JWS is that short; such a token is verified every time).
    if (token.length < KEY_LENGTH) return;
    const key = keyOf(token);
    if (this.remembered.get(key)?.token === token) return;
    const expiresAt = expiryOf(token);
    if (expiresAt === undefined) return;
    if (!this.remembered.has(key) && this.remembered.size >= this.maxEntries) this.remembered.delete(this.remembered.keys().next().value!);
    this.remembered.set(key, { token, header: bearerHeader(token), user, until: Math.min(Date.now() + this.ttlMs, expiresAt) });
  }
}

/**
 * `Bearer <token>` as one flat string. A `+` or template concatenation is a rope (V8's ConsString),
 * which every comparison with a header would walk again; a join writes one sequential string.
 */
function bearerHeader(token: string): string {
  return ['Bearer ', token].join('');
}

/** `exp` (epoch ms) of a token that just verified (so its payload is well-formed JSON); undefined if absent. */
function expiryOf(token: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp * 1_000 : undefined;
  } catch {
    return undefined;
  }
}
