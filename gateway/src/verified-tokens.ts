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
  user: AuthenticatedUser;
  /** Epoch ms after which the token is verified again. */
  until: number;
}

export interface VerifiedTokensOptions {
  /** How long a verdict is reused (default 30 s). */
  ttlMs?: number;
  /** Tokens remembered at most (default 10 000, a few MB); the oldest go first. */
  maxEntries?: number;
}

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
    const entry = this.remembered.get(token);
    if (!entry) return undefined;
    if (entry.until > Date.now()) return entry.user;
    this.remembered.delete(token);
    return undefined;
  }

  /**
   * recall for an Authorization header exactly as clients send it, `Bearer <token>`, without
   * parsing it first: the header's regular expression (case-insensitive, over a token of a few
   * hundred bytes) cost more than the lookup. Only a token that verified is remembered, and
   * `Bearer ` + such a token always parses, so a hit is what parsing would have found; any other
   * spelling (another case, more spaces) misses and goes through bearerToken as before.
   */
  recallHeader(header: string | undefined): AuthenticatedUser | undefined {
    return header !== undefined && header.startsWith('Bearer ') ? this.recall(header.slice(7)) : undefined;
  }

  async verify(token: string): Promise<AuthenticatedUser> {
    const user = this.recall(token) ?? (await this.verifier.verify(token));
    this.remember(token, user);
    return user;
  }

  private remember(token: string, user: AuthenticatedUser): void {
    if (this.remembered.has(token)) return;
    const expiresAt = expiryOf(token);
    if (expiresAt === undefined) return;
    if (this.remembered.size >= this.maxEntries) this.remembered.delete(this.remembered.keys().next().value!);
    this.remembered.set(token, { user, until: Math.min(Date.now() + this.ttlMs, expiresAt) });
  }
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
