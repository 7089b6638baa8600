import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from '@switchyard/infra';
import type { Redis } from 'ioredis';
import type { AttemptCounter } from '../domain/throttle.js';

/**
 * Sign-in attempts per key in Redis (rate-limiter-flexible: an atomic INCR + expiry per key and
 * fixed window), shared by every auth instance. While Redis is unreachable each instance counts
 * alone in memory (the insurance limiter): attackers get at most one budget per instance, and
 * nobody is locked out because Redis is.
 */
export class RedisAttemptCounter implements AttemptCounter {
  private readonly limiter: RateLimiterRedis;

  constructor(redis: Redis, options: { keyPrefix: string; limit: number; windowSeconds: number }) {
    const shape = { keyPrefix: options.keyPrefix, points: options.limit, duration: options.windowSeconds };
    this.limiter = new RateLimiterRedis({
      ...shape,
      storeClient: redis,
      // Straight to the insurance while disconnected, instead of waiting on ioredis's retries.
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory(shape),
    });
  }

  async hit(key: string): Promise<{ attempts: number } | { refusedForMs: number }> {
    try {
      return { attempts: (await this.limiter.consume(key)).consumedPoints };
    } catch (rejection) {
      // A spent budget rejects with a RateLimiterRes; anything else is a real failure.
      if (rejection instanceof RateLimiterRes) return { refusedForMs: rejection.msBeforeNext };
      throw rejection;
    }
  }

  async forgive(key: string): Promise<void> {
    await this.limiter.reward(key, 1);
  }

  async clear(key: string): Promise<void> {
    await this.limiter.delete(key);
  }
}
