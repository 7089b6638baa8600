import { z } from '@switchyard/infra';
import { trustedProxiesSetting } from './client-address.js';

const seconds = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);

/** auth's variables, beyond the platform's (a bad or missing one stops startup with one line). */
export const authConfig = {
  /**
   * Seals the signing keys' private halves in the database: base64 of 32 random bytes
   * (`openssl rand -base64 32`). Required: without it no instance could share keys safely.
   * Instances meant to accept each other's tokens need the same value.
   */
  AUTH_KEY_ENCRYPTION_KEY: z
    .string({ error: 'required: base64 of 32 random bytes (openssl rand -base64 32)' })
    .transform((raw, ctx) => {
      const key = Buffer.from(raw, 'base64');
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(raw) || key.length !== 32) {
        ctx.issues.push({ code: 'custom', input: raw, message: `must be base64 of exactly 32 bytes (decodes to ${key.length})` });
        return z.NEVER;
      }
      return key;
    }),
  TRUSTED_PROXIES: trustedProxiesSetting,
  /** The access tokens' lifetime: short, since a signed-out access token lives until it expires. */
  AUTH_ACCESS_TOKEN_TTL_SECONDS: seconds(60, 24 * 3600, 15 * 60),
  /** A refresh token unused this long expires (each refresh starts a new one). */
  AUTH_REFRESH_TOKEN_TTL_SECONDS: seconds(300, 365 * 24 * 3600, 14 * 24 * 3600),
  /** How often each instance deletes expired refresh tokens and the sessions they leave empty. */
  AUTH_SESSION_PURGE_INTERVAL_SECONDS: seconds(1, 7 * 24 * 3600, 3600),
  /**
   * How long an expired refresh token is kept before the purge deletes it: while kept, a rotated
   * one presented again still revokes its session (theft detection); after, it is an unknown token.
   */
  AUTH_EXPIRED_TOKEN_RETENTION_SECONDS: seconds(0, 365 * 24 * 3600, 7 * 24 * 3600),
  /** A signing key that has signed this long gets a successor. */
  AUTH_SIGNING_KEY_ROTATION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** Failed sign-ins per email, and per client address, within the window before 429 (slowed down before). */
  AUTH_LOGIN_FAILURES_PER_EMAIL: z.coerce.number().int().min(1).max(10_000).default(10),
  AUTH_LOGIN_FAILURES_PER_CLIENT: z.coerce.number().int().min(1).max(100_000).default(100),
  AUTH_LOGIN_WINDOW_SECONDS: seconds(1, 24 * 3600, 15 * 60),
  /** Prefix of auth's Redis keys (the login counters): tests give each run its own. */
  AUTH_REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]{0,100}$/, 'letters, digits, :, _ and -').default('auth:'),
};
