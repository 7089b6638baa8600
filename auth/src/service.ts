import { TokenVerifier, type ServiceContext, type ServiceParts, type z } from '@switchyard/infra';
import type { authConfig } from './config.js';
import { AccessTokens } from './domain/access-tokens.js';
import { Accounts } from './domain/accounts.js';
import { KeyCipher } from './domain/key-encryption.js';
import { PasswordHasher } from './domain/passwords.js';
import { SessionPurge } from './domain/session-purge.js';
import { Sessions } from './domain/sessions.js';
import { SignIn } from './domain/sign-in.js';
import { SigningKeys, type KeyRingPolicy } from './domain/signing-keys.js';
import { LoginThrottle } from './domain/throttle.js';
import { authRoutes } from './routes.js';
import { RedisAttemptCounter } from './store/attempt-counters.js';
import { MysqlSessionStore } from './store/sessions.js';
import { MysqlSigningKeyStore } from './store/signing-keys.js';
import { MysqlUserStore } from './store/users.js';

export type AuthConfig = z.infer<z.ZodObject<typeof authConfig>>;

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;

/** Wires auth: stores (ctx.mysql, ctx.redis) → domain → routes. Nothing here creates tables. */
export function setupAuth(ctx: ServiceContext<AuthConfig>): ServiceParts {
  const { config, logger } = ctx;
  const pool = ctx.mysql();
  const redis = ctx.redis();

  const keyPolicy: KeyRingPolicy = {
    rotateAfterMs: config.AUTH_SIGNING_KEY_ROTATION_DAYS * DAY,
    tokenLifetimeMs: config.AUTH_ACCESS_TOKEN_TTL_SECONDS * SECOND,
    reloadEveryMs: 30 * SECOND,
    // Longer than any instance's reload interval: every JWKS holds a key before any token uses it.
    publishAheadMs: 2 * MINUTE,
    retiredMarginMs: 5 * MINUTE,
    retryAfterFailureMs: 5 * SECOND,
  };
  const keys = new SigningKeys(new MysqlSigningKeyStore(pool), new KeyCipher(config.AUTH_KEY_ENCRYPTION_KEY), keyPolicy, logger);
  const accessTokens = new AccessTokens(keys, config.AUTH_ACCESS_TOKEN_TTL_SECONDS);
  const sessionStore = new MysqlSessionStore(pool);
  const sessions = new Sessions(sessionStore, accessTokens, config.AUTH_REFRESH_TOKEN_TTL_SECONDS * SECOND, logger);
  const purge = new SessionPurge(
    sessionStore,
    { everyMs: config.AUTH_SESSION_PURGE_INTERVAL_SECONDS * SECOND, keepExpiredMs: config.AUTH_EXPIRED_TOKEN_RETENTION_SECONDS * SECOND, batch: 1_000 },
    logger,
  );
  const accounts = new Accounts(new MysqlUserStore(pool), new PasswordHasher());

  const counter = (kind: string, limit: number) =>
    new RedisAttemptCounter(redis, { keyPrefix: `${config.AUTH_REDIS_PREFIX}login-${kind}`, limit, windowSeconds: config.AUTH_LOGIN_WINDOW_SECONDS });
  const limits = { perEmail: config.AUTH_LOGIN_FAILURES_PER_EMAIL, perClient: config.AUTH_LOGIN_FAILURES_PER_CLIENT };
  const throttle = new LoginThrottle({ email: counter('email', limits.perEmail), client: counter('client', limits.perClient) }, limits);

  // auth verifies its callers' tokens against its own ring, read again when a kid is unknown
  // (the verifier rate-limits that), rather than through a call to itself.
  const verifier = new TokenVerifier(() => keys.publicJwks({ reload: true }), {
    onFetchError: (error) => logger.warn({ err: (error as Error).message }, 'signing keys: could not read the key ring to verify a token'),
  });

  // Load (or create) the key ring now; the probe below keeps the instance out of Consul until done.
  keys.refresh().catch((error: Error) => logger.warn({ err: error.message }, 'signing keys: first load failed; the readiness probe retries'));

  return {
    routes: authRoutes({ accounts, sessions, signIn: new SignIn(throttle, accounts, sessions), keys, verifier, trustedProxies: config.TRUSTED_PROXIES }),
    probes: { signing_keys: () => keys.ready() },
    // Redis holds only the sign-in throttling counters: while it is down sign-in answers 503 (no
    // guessing without a shared count), and every other route (profiles, refresh, keys) works on.
    degradedWithout: ['redis'],
    onStarted: () => purge.start(ctx.shuttingDown),
    onShutdown: () => purge.stopped(),
  };
}
