import {
  createLocalJWKSet,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
} from 'jose';
import { HttpError } from '../server/http-error.js';

/** The caller of a request, as its access token says. */
export interface AuthenticatedUser {
  /** The user's id (`sub`). */
  id: string;
  /** The refresh-token family the access token was minted for (`sid`). */
  sessionId: string;
}

/** Where the public keys come from: auth's JWKS through discovery, or auth's own key store. */
export type JwksSource = () => Promise<JSONWebKeySet>;

export const ACCESS_TOKEN_ISSUER = 'switchyard-auth';
export const ACCESS_TOKEN_AUDIENCE = 'switchyard';
/** The one algorithm accepted: `alg` comes from the token, so it is never trusted as given. */
export const ACCESS_TOKEN_ALGORITHM = 'EdDSA';

export interface TokenVerifierOptions {
  issuer?: string;
  audience?: string;
  /** At most one refetch per this interval for unknown `kid`s (default 10 s): forged kids cannot make us hammer auth. */
  refetchMinIntervalMs?: number;
  /** After a failed fetch, calls answer 503 at once for this long instead of fetching again (default 1 s). */
  retryAfterFailureMs?: number;
  /** A key set older than this is refreshed in the background, so retired keys leave (default 5 min). */
  maxAgeMs?: number;
  /** A fetch that takes longer fails (default 3 s): a request never waits on a hung auth for long. */
  fetchTimeoutMs?: number;
  /** Allowed clock skew between the signing and the verifying host (default 5 s). */
  clockToleranceSeconds?: number;
  /** Told why a fetch failed (the 503 the client sees keeps the reason to itself). */
  onFetchError?: (error: unknown) => void;
}

/** Tokens are a few hundred bytes; anything this long is refused before any parsing. */
const MAX_TOKEN_LENGTH = 8_192;

type KeyLookup = ReturnType<typeof createLocalJWKSet>;

interface KeySet {
  lookup: KeyLookup;
  size: number;
  fetchedAt: number;
}

/**
 * Verifies access tokens locally against auth's published keys (no call to auth per request).
 * The key set is cached, refetched when a token names an unknown `kid` (rate-limited) and when
 * it gets old; concurrent callers share one fetch. Outcomes: the user, or an HttpError —
 * 401 `missing_token` / `invalid_token` / `token_expired` for anything wrong with the token,
 * 503 `auth_unavailable` when the keys cannot be had. Never a 500 for a bad token.
 */
export class TokenVerifier {
  private readonly issuer: string;
  private readonly audience: string;
  private readonly refetchMinIntervalMs: number;
  private readonly retryAfterFailureMs: number;
  private readonly maxAgeMs: number;
  private readonly fetchTimeoutMs: number;
  private readonly clockTolerance: number;
  private readonly onFetchError: (error: unknown) => void;
  private keys: KeySet | undefined;
  private fetching: Promise<KeySet> | undefined;
  private lastFailureAt: number | undefined;

  constructor(
    private readonly source: JwksSource,
    options: TokenVerifierOptions = {},
  ) {
    this.issuer = options.issuer ?? ACCESS_TOKEN_ISSUER;
    this.audience = options.audience ?? ACCESS_TOKEN_AUDIENCE;
    this.refetchMinIntervalMs = options.refetchMinIntervalMs ?? 10_000;
    this.retryAfterFailureMs = options.retryAfterFailureMs ?? 1_000;
    this.maxAgeMs = options.maxAgeMs ?? 5 * 60_000;
    this.fetchTimeoutMs = options.fetchTimeoutMs ?? 3_000;
    this.clockTolerance = options.clockToleranceSeconds ?? 5;
    this.onFetchError = options.onFetchError ?? (() => undefined);
  }

  async verify(token: string): Promise<AuthenticatedUser> {
    if (!token) throw unauthorized('missing_token', 'this route needs a signed-in user: send Authorization: Bearer <access token>');
    if (token.length > MAX_TOKEN_LENGTH) throw invalidToken('too long');
    checkHeader(token);

    let keys = await this.currentKeys();
    try {
      return await this.verifyWith(token, keys);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw toHttpError(error);
    }
    // A kid we do not know: auth may have published a new key since we fetched.
    keys = await this.refetchForUnknownKid(keys);
    try {
      return await this.verifyWith(token, keys);
    } catch (error) {
      throw toHttpError(error);
    }
  }

  private async verifyWith(token: string, keys: KeySet): Promise<AuthenticatedUser> {
    const { payload } = await jwtVerify(token, keys.lookup, {
      algorithms: [ACCESS_TOKEN_ALGORITHM],
      issuer: this.issuer,
      audience: this.audience,
      requiredClaims: ['sub', 'sid', 'exp', 'iat'],
      clockTolerance: this.clockTolerance,
    });
    return userOf(payload);
  }

  /** The cached set (refreshing it in the background when old), or a first fetch. */
  private async currentKeys(): Promise<KeySet> {
    const keys = this.keys;
    if (!keys) return this.fetchOrFail();
    if (Date.now() - keys.fetchedAt > this.maxAgeMs && this.mayAttempt()) {
      // The failure, if any, is remembered for the next attempt; this request goes on with the cached keys.
      this.fetchOrFail().catch(() => undefined);
    }
    return keys;
  }

  private async refetchForUnknownKid(keys: KeySet): Promise<KeySet> {
    const recentlyFetched = Date.now() - keys.fetchedAt < this.refetchMinIntervalMs;
    // An empty set (auth had no key yet) is always worth asking again, failures permitting.
    if ((recentlyFetched && keys.size > 0) || !this.mayAttempt()) {
      if (this.fetching) return this.fetching.catch(() => keys);
      return keys;
    }
    return this.fetchOrFail();
  }

  private mayAttempt(): boolean {
    return this.lastFailureAt === undefined || Date.now() - this.lastFailureAt >= this.retryAfterFailureMs;
  }

  /** One fetch at a time, shared by every caller waiting for it; a failure becomes a 503. */
  private fetchOrFail(): Promise<KeySet> {
    if (this.fetching) return this.fetching;
    if (!this.mayAttempt()) return Promise.reject(unavailable());
    const attempt = this.fetchKeys().then(
      (keys) => {
        this.keys = keys;
        this.lastFailureAt = undefined;
        return keys;
      },
      (error: unknown) => {
        this.lastFailureAt = Date.now();
        this.onFetchError(error);
        throw unavailable();
      },
    );
    this.fetching = attempt;
    const clear = () => {
      if (this.fetching === attempt) this.fetching = undefined;
    };
    attempt.then(clear, clear);
    return attempt;
  }

  private async fetchKeys(): Promise<KeySet> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no key set within ${this.fetchTimeoutMs} ms`)), this.fetchTimeoutMs);
    });
    try {
      const jwks = await Promise.race([this.source(), timeout]);
      if (!jwks || !Array.isArray((jwks as { keys?: unknown }).keys)) throw new Error('the key set is not a JWKS ({keys: [...]})');
      // Throws on a malformed set: treated like an unreachable auth (503), never as a bad token.
      const lookup = createLocalJWKSet(jwks);
      return { lookup, size: jwks.keys.length, fetchedAt: Date.now() };
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Cheap checks before any cryptography: the token parses, names EdDSA and a key id. */
function checkHeader(token: string): void {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw invalidToken('malformed');
  }
  if (header.alg !== ACCESS_TOKEN_ALGORITHM) throw invalidToken('algorithm not allowed');
  if (typeof header.kid !== 'string' || header.kid.length === 0) throw invalidToken('no key id');
}

function userOf(payload: JWTPayload): AuthenticatedUser {
  const { sub, sid } = payload as JWTPayload & { sid?: unknown };
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 128) throw invalidToken('bad subject');
  if (typeof sid !== 'string' || sid.length === 0 || sid.length > 128) throw invalidToken('bad session id');
  return { id: sub, sessionId: sid };
}

/** jose's verdicts as 401s; anything else (ours) passes through unchanged. */
function toHttpError(error: unknown): unknown {
  if (error instanceof HttpError) return error;
  if (error instanceof errors.JWTExpired) return unauthorized('token_expired', 'the access token has expired: refresh it');
  if (error instanceof errors.JWKSNoMatchingKey) return invalidToken('unknown key id');
  if (error instanceof errors.JWSSignatureVerificationFailed) return invalidToken('bad signature');
  if (error instanceof errors.JWTClaimValidationFailed) return invalidToken(`claim ${error.claim} ${error.reason === 'missing' ? 'missing' : 'rejected'}`);
  if (error instanceof errors.JOSEError) return invalidToken('malformed');
  // jose throws TypeError for some malformed inputs (e.g. a key of the wrong type for the alg).
  if (error instanceof TypeError) return invalidToken('malformed');
  return error;
}

function unauthorized(code: 'missing_token' | 'invalid_token' | 'token_expired', message: string): HttpError {
  return new HttpError(401, code, message);
}

function invalidToken(reason: string): HttpError {
  return unauthorized('invalid_token', `the access token is not valid (${reason})`);
}

function unavailable(): HttpError {
  return new HttpError(503, 'auth_unavailable', 'cannot verify access tokens right now: the signing keys are unavailable; try again shortly');
}
