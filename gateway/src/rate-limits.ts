/**
 * Per-client and per-user request limits, counted in Redis so every gateway instance enforces the
 * same allowance (a client spreading requests over instances gains nothing), answered 429 with
 * Retry-After. Redis is an aid here, not a dependency: when it is down or slow, each instance
 * falls back to counting alone in memory (rate-limiter-flexible's insurance limiter) rather than
 * failing or stalling requests, and the gateway's readiness never depends on it.
 */
import type { IncomingMessage } from 'node:http';
import { HttpError, createRedis, currentUser, type Logger, type NextFunction, type Request, type Response } from '@switchyard/infra';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

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

export interface RateLimits {
  /** Counts a request against its client's allowance; throws RateLimited past it. */
  admitClient(req: IncomingMessage): Promise<void>;
  /** Counts a request against a signed-in user's allowance; throws RateLimited past it. */
  admitUser(userId: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Well under the 3 s infra gives store commands: a wedged Redis must not add seconds to every
 * request; past this the in-memory insurance limiter decides.
 */
const REDIS_COMMAND_TIMEOUT_MS = 250;
const WINDOW_SECONDS = 60;

export function rateLimits(settings: RateLimitSettings): RateLimits {
  const { perClientPerMinute, perUserPerMinute } = settings;
  if (perClientPerMinute === 0 && perUserPerMinute === 0) {
    return { admitClient: async () => {}, admitUser: async () => {}, close: async () => {} };
  }
  const redis = limiterConnection(settings.redisUrl, settings.logger);
  const limiter = (name: string, points: number) =>
    points === 0
      ? undefined
      : new RateLimiterRedis({
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
        });
  const byClient = limiter('client', perClientPerMinute);
  const byUser = limiter('user', perUserPerMinute);
  return {
    admitClient: async (req) => {
      if (byClient) await consume(byClient, settings.clientAddress(req));
    },
    admitUser: async (userId) => {
      if (byUser) await consume(byUser, userId);
    },
    close: () =>
      redis.quit().then(
        () => undefined,
        () => redis.disconnect(),
      ),
  };
}

/** Express middleware around an admit function: a 429 carries Retry-After. */
export function limitMiddleware(admit: (req: Request, res: Response) => Promise<void>) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      await admit(req, res);
    } catch (error) {
      if (error instanceof RateLimited) res.setHeader('retry-after', String(error.retryAfterSeconds));
      throw error;
    }
    next();
  };
}

/** The per-user middleware, after infra's requireUser has set res.locals.user. */
export const perUserLimit = (limits: RateLimits) =>
  limitMiddleware((_req, res) => limits.admitUser(currentUser(res).id));

async function consume(limiter: RateLimiterRedis, key: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (rejection) {
    // The insurance limiter absorbs store failures, so a rejection is a verdict.
    if (!(rejection instanceof RateLimiterRes)) throw rejection;
    throw new RateLimited(Math.max(1, Math.ceil(rejection.msBeforeNext / 1_000)));
  }
}

/**
 * The limiters' own Redis connection rather than ctx.redis(): that one is probed by
 * /health/ready, and a Redis outage must not take every gateway out of Consul (limits degrade
 * to per-instance counting instead). No offline queue: a command while disconnected fails at
 * once and the insurance limiter answers.
 */
function limiterConnection(url: string, logger: Logger) {
  const redis = createRedis(url, { enableOfflineQueue: false, commandTimeout: REDIS_COMMAND_TIMEOUT_MS, maxRetriesPerRequest: 0 });
  // ioredis reports every failed reconnection; one line per outage is enough.
  let reported = false;
  redis.on('error', (error: Error) => {
    if (reported) return;
    reported = true;
    logger.warn({ err: error.message }, 'rate limits: Redis unreachable; each gateway instance counts alone until it is back');
  });
  redis.on('ready', () => {
    if (reported) logger.info('rate limits: Redis is back; limits are shared again');
    reported = false;
  });
  return redis;
}
