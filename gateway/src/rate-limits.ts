/**
 * Per-client and per-user request limits, counted in Redis so every gateway instance enforces the
 * same allowance (a client spreading requests over instances gains nothing), answered 429 with
 * Retry-After. Instances take allowance from Redis in small leases rather than one request at a
 * time (allowance-leases.ts: never past the allowance, at most a lease early per instance).
 * Redis is an aid here, not a dependency: when it is down or slow, each instance
 * falls back to counting alone in memory (rate-limiter-flexible's insurance limiter) rather than
 * failing or stalling requests, and the gateway's readiness never depends on it.
 */
import type { IncomingMessage } from 'node:http';
import { Gauge, HttpError, RateLimiterMemory, RateLimiterRedis, createRedis, metricsRegistry, type Logger, type NextFunction, type Request, type Response } from '@switchyard/infra';
import { AllowanceSpent, LeasedAllowance } from './allowance-leases.js';

/** 429: the caller used its allowance; `retryAfterSeconds` is when the window frees a request. */
export class RateLimited extends HttpError {
  constructor(readonly retryAfterSeconds: number) {
    super(429, 'rate_limited', `too many requests; retry in ${retryAfterSeconds} s`);
  }
}

export interface RateLimitSettings {
  redisUrl: string;
  /** Names this deployment's counters apart (SERVICE_NAME_SUFFIX: a test stack's own). */
  keyPrefix: string;
  perClientPerMinute: number;
  perUserPerMinute: number;
  /** The address a request counts against (see clientAddresses). */
  clientAddress: (req: IncomingMessage) => string;
  logger: Logger;
}

/**
 * An admission: undefined when it was decided at once from a lease in hand (the usual case, no
 * await), otherwise settled once Redis answered. Either way a refusal is a RateLimited.
 */
export type Admission = Promise<void> | undefined;

export interface RateLimits {
  /** Counts a request against its client's allowance; RateLimited past it. */
  admitClient(req: IncomingMessage): Admission;
  /** Counts a request against a signed-in user's allowance; RateLimited past it. */
  admitUser(userId: string): Admission;
  close(): Promise<void>;
}

/**
 * Well under the 3 s infra gives store commands: a wedged Redis must not add seconds to every
 * request; past this the in-memory insurance limiter decides.
 */
const REDIS_COMMAND_TIMEOUT_MS = 250;
const WINDOW_SECONDS = 60;

/**
 * Whether this instance's limits are counted in Redis right now (1) or by this instance alone in
 * memory (0: Redis unreachable, or not connected yet after start). Worth an alert: while it is 0, a
 * client spread over N instances gets N allowances.
 */
const sharedLimitsGauge = new Gauge({
  name: 'switchyard_gateway_rate_limits_shared',
  help: '1 while the rate limits are counted in Redis (shared by every gateway instance), 0 while this instance counts alone',
  registers: [metricsRegistry],
});

export function rateLimits(settings: RateLimitSettings): RateLimits {
  const { perClientPerMinute, perUserPerMinute } = settings;
  if (perClientPerMinute === 0 && perUserPerMinute === 0) {
    return { admitClient: () => undefined, admitUser: () => undefined, close: async () => {} };
  }
  const redis = limiterConnection(settings.redisUrl, settings.logger);
  const limiter = (name: string, points: number) =>
    points === 0
      ? undefined
      : new LeasedAllowance(
          new RateLimiterRedis({
          storeClient: redis,
          // Refuse at once while disconnected, so a request never waits for a reconnection.
          rejectIfRedisNotReady: true,
          keyPrefix: `${settings.keyPrefix}:rate:${name}`,
          points,
          duration: WINDOW_SECONDS,
          // A key past its allowance is refused from memory until its window ends: a client
          // hammering the gateway costs no Redis round trip per refused request.
          inMemoryBlockOnConsumed: points,
          insuranceLimiter: new RateLimiterMemory({ points, duration: WINDOW_SECONDS }),
          }),
          { points, windowMs: WINDOW_SECONDS * 1_000 },
        );
  const byClient = limiter('client', perClientPerMinute);
  const byUser = limiter('user', perUserPerMinute);
  return {
    admitClient: (req) => (byClient ? consume(byClient, settings.clientAddress(req)) : undefined),
    admitUser: (userId) => (byUser ? consume(byUser, userId) : undefined),
    close: () => {
      byClient?.close();
      byUser?.close();
      return redis.quit().then(
        () => undefined,
        () => redis.disconnect(),
      );
    },
  };
}

/** Express middleware around an admit function (the per-client limit of the express routes): a 429 carries Retry-After. */
export function limitMiddleware(admit: (req: Request, res: Response) => Admission) {
  const refuse = (res: Response, next: NextFunction, error: unknown) => {
    if (error instanceof RateLimited) res.setHeader('retry-after', String(error.retryAfterSeconds));
    next(error);
  };
  return (req: Request, res: Response, next: NextFunction): void => {
    let pending: Admission;
    try {
      pending = admit(req, res);
    } catch (error) {
      return refuse(res, next, error);
    }
    // Decided from a lease in hand: on at once, without a trip through the microtask queue.
    if (pending === undefined) return next();
    pending.then(
      () => next(),
      (error: unknown) => refuse(res, next, error),
    );
  };
}

/** One request of `key` against `allowance`; AllowanceSpent becomes RateLimited, thrown or rejected as it came. */
function consume(allowance: LeasedAllowance, key: string): Admission {
  let pending: Admission;
  try {
    pending = allowance.consume(key);
  } catch (error) {
    throw limited(error);
  }
  return pending?.catch((error: unknown) => {
    throw limited(error);
  });
}

/** The insurance limiter absorbs store failures, so anything but AllowanceSpent is a programming error, passed on. */
function limited(error: unknown): unknown {
  if (!(error instanceof AllowanceSpent)) return error;
  return new RateLimited(Math.max(1, Math.ceil(error.msBeforeNext / 1_000)));
}

/**
 * The limiters' own Redis connection rather than ctx.redis(): that one is probed by
 * /health/ready, and a Redis outage must not take every gateway out of Consul (limits degrade
 * to per-instance counting instead). No offline queue: a command while disconnected fails at
 * once and the insurance limiter answers.
 */
function limiterConnection(url: string, logger: Logger) {
  const redis = createRedis(url, { enableOfflineQueue: false, commandTimeout: REDIS_COMMAND_TIMEOUT_MS, maxRetriesPerRequest: 0 });
  sharedLimitsGauge.set(0);
  // ioredis reports every failed reconnection; one line per outage is enough.
  let reported = false;
  redis.on('error', (error: Error) => {
    if (reported) return;
    reported = true;
    logger.warn({ err: error.message }, 'rate limits: Redis unreachable; each gateway instance counts alone until it is back');
  });
  redis.on('ready', () => {
    sharedLimitsGauge.set(1);
    if (reported) logger.info('rate limits: Redis is back; limits are shared again');
    reported = false;
  });
  // Commands are refused from the moment the connection drops (rejectIfRedisNotReady), not at the next error.
  redis.on('close', () => sharedLimitsGauge.set(0));
  return redis;
}
