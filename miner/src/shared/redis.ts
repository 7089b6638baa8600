import type { ServiceContext } from '@switchyard/infra';

/** The ioredis connection infra hands out (ctx.redis()), named without importing ioredis itself. */
export type RedisConnection = ReturnType<ServiceContext<unknown>['redis']>;
