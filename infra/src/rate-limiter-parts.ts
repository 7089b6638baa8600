/**
 * The rate-limiter-flexible classes the platform uses (Redis with an in-memory insurance, and the
 * result a refusal rejects with), each loaded from its own module rather than from the package's
 * index, which loads every store it supports (MongoDB, MySQL, Postgres, DynamoDB, Prisma, Drizzle,
 * Memcache, etcd, Valkey, SQLite, cluster: ~30 modules) into every service that limits anything.
 *
 * The package declares no `exports` map, so its files are reachable by path; rate-limiter-parts.test.ts
 * checks that each is the very class the index exports, so an upgrade that moves one fails the unit
 * tests rather than a service's start.
 */
import { createRequire } from 'node:module';
import type * as Flexible from 'rate-limiter-flexible';

const require = createRequire(import.meta.url);

export const RateLimiterRedis = require('rate-limiter-flexible/lib/RateLimiterRedis.js') as typeof Flexible.RateLimiterRedis;
export type RateLimiterRedis = Flexible.RateLimiterRedis;
export const RateLimiterMemory = require('rate-limiter-flexible/lib/RateLimiterMemory.js') as typeof Flexible.RateLimiterMemory;
export type RateLimiterMemory = Flexible.RateLimiterMemory;
export const RateLimiterRes = require('rate-limiter-flexible/lib/RateLimiterRes.js') as typeof Flexible.RateLimiterRes;
export type RateLimiterRes = Flexible.RateLimiterRes;
export type { RateLimiterAbstract } from 'rate-limiter-flexible';
