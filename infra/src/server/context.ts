import type { Redis } from 'ioredis';
import type { Pool } from 'mysql2/promise';
import { z } from 'zod';
import { TokenVerifier } from '../auth/token-verifier.js';
import { jwksThroughDiscovery } from '../auth/jwks-client.js';
import { ServiceClient, type ServiceClientOptions } from '../client/service-client.js';
import type { BaseConfig } from '../config.js';
import type { ConsulClient } from '../consul/client.js';
import { Watcher } from '../consul/watcher.js';
import { EventBus } from '../live/event-bus.js';
import type { Logger } from '../logger.js';
import type { Instancer } from '../sd/instancer.js';
import { WatcherRegistry } from '../sd/watcher-registry.js';
import { createMysqlPool, createMysqlProbe, createRedis } from '../stores.js';
import type { Probe } from './health.js';

/** Variables of the platform's shared pieces (stores, discovery), beyond the base config. */
export const platformConfigShape = {
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  MYSQL_URL: z.string().url().default('mysql://root@127.0.0.1:3306/switchyard'),
  /**
   * Appended to this service's Consul name and to every name it discovers. Empty in production;
   * tests and benchmarks set it to run an isolated copy of a stack beside others on one Consul.
   */
  SERVICE_NAME_SUFFIX: z.string().regex(/^[A-Za-z0-9-]{0,40}$/, 'letters, digits and dashes, at most 40').default(''),
  /** Safety refresh of the discovery blocking queries (changes arrive at once regardless). */
  DISCOVERY_WAIT_SECONDS: z.coerce.number().int().min(1).max(600).default(30),
  /** The admin listener (/health, /metrics) of services that have one (the gateway). */
  ADMIN_HOST: z.string().min(1).default('127.0.0.1'),
  ADMIN_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Live sockets (liveSockets): ping period; a socket that missed the previous pong is cut. */
  WS_HEARTBEAT_MS: z.coerce.number().int().min(50).max(600_000).default(15_000),
  /** Live sockets: unsent bytes one socket may hold before it is closed as a slow consumer (1008). */
  WS_MAX_BUFFERED_BYTES: z.coerce.number().int().min(1_024).max(256 * 1024 * 1024).default(1024 * 1024),
};

export type PlatformConfig = BaseConfig & z.infer<z.ZodObject<typeof platformConfigShape>>;

/** What a service's setup receives: its config and the platform's shared pieces. */
export interface ServiceContext<C> {
  config: PlatformConfig & C;
  logger: Logger;
  /**
   * A ServiceClient for `service`, sharing this process's single watcher of that service. Create
   * clients in `setup` (each owns a connection pool and breakers): calling this later throws.
   */
  client(service: string, options?: ServiceClientOptions): ServiceClient;
  /** The live passing instances of `service` (one shared watcher per service per process). */
  watch(service: string): Instancer;
  /** The process's Redis connection (REDIS_URL), traced, probed by /health/ready, closed on exit. */
  redis(): Redis;
  /** The process's MySQL pool (MYSQL_URL), traced, probed by /health/ready, closed on exit. */
  mysql(): Pool;
  /**
   * The process's live event bus: Redis pub/sub fan-out between the instances of every service
   * on this Redis (publishes on ctx.redis(), subscribes on a connection of its own, probed by
   * /health/ready and closed on exit). Channels are namespaced by SERVICE_NAME_SUFFIX.
   */
  events(): EventBus;
  /**
   * The process's access-token verifier, for `requireUser(verifier)`: auth's public keys fetched
   * through discovery (`GET /.well-known/jwks.json` on any passing `auth` instance), cached and
   * refetched on an unknown key id. Call it in setup (it creates a client of `auth`); later calls
   * return the same verifier. The auth service verifies against its own key store instead.
   */
  tokenVerifier(): TokenVerifier;
  /** This instance's Consul service id (known once the server listens). */
  serviceId(): string;
  /**
   * Aborts the moment shutdown begins, before deregistration: background loops stop starting
   * outgoing calls, and treat their upstreams leaving (the whole stack stops at once) as expected
   * rather than as failures worth a warning.
   */
  shuttingDown: AbortSignal;
}

/** The context plus what the lifecycle needs to probe and close what setup created. */
export interface ContextResources<C> {
  ctx: ServiceContext<C>;
  probes: Record<string, Probe>;
  clients: ServiceClient[];
  watchers: WatcherRegistry;
  closers: Array<() => Promise<unknown>>;
  /** Ends the setup phase: later ctx.client() calls throw. */
  sealClients(): void;
  setServiceId(id: string): void;
  /** Aborts ctx.shuttingDown. */
  beginShutdown(): void;
}

export function createServiceContext<C>(options: {
  config: PlatformConfig & C;
  name: string;
  logger: Logger;
  consul: ConsulClient;
}): ContextResources<C> {
  const { config, logger, consul } = options;
  const discoveryName = (service: string) => `${service}${config.SERVICE_NAME_SUFFIX}`;
  const watchers = new WatcherRegistry((service) =>
    new Watcher({ consul, service, logger, waitSeconds: config.DISCOVERY_WAIT_SECONDS }).start(),
  );
  const shutdown = new AbortController();
  const clients: ServiceClient[] = [];
  const closers: Array<() => Promise<unknown>> = [];
  const probes: Record<string, Probe> = {};
  let serviceId = `${options.name}-starting`;
  let settingUp = true;
  let redis: Redis | undefined;
  let mysql: Pool | undefined;
  let events: EventBus | undefined;
  let tokenVerifier: TokenVerifier | undefined;

  const ctx: ServiceContext<C> = {
    config,
    logger,
    client(service, clientOptions) {
      if (!settingUp) {
        throw new Error(`ctx.client('${service}') called after setup: create clients once, in setup, and reuse them`);
      }
      const name = discoveryName(service);
      const client = new ServiceClient(name, watchers.watch(name), { logger, ...clientOptions });
      clients.push(client);
      return client;
    },
    watch: (service) => watchers.watch(discoveryName(service)),
    redis() {
      if (!redis) {
        const connection = createRedis(config.REDIS_URL);
        connection.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
        probes.redis = () => connection.ping();
        closers.push(() => connection.quit().catch(() => connection.disconnect()));
        redis = connection;
      }
      return redis;
    },
    mysql() {
      if (!mysql) {
        const pool = createMysqlPool(config.MYSQL_URL);
        const readiness = createMysqlProbe(config.MYSQL_URL);
        probes.mysql = readiness.probe;
        closers.push(() => pool.end(), readiness.close);
        mysql = pool;
      }
      return mysql;
    },
    events() {
      if (!events) {
        const subscriber = createRedis(config.REDIS_URL, { autoResubscribe: false });
        subscriber.on('error', (err) => logger.warn({ err: err.message }, 'redis subscriber connection error'));
        // Live delivery needs its own connection up, not only the command one.
        probes.redisEvents = async () => {
          if (subscriber.status !== 'ready') throw new Error(`subscriber connection ${subscriber.status}`);
        };
        const bus = new EventBus({ publisher: ctx.redis(), subscriber, namespace: config.SERVICE_NAME_SUFFIX, logger });
        closers.push(() => bus.close());
        events = bus;
      }
      return events;
    },
    tokenVerifier() {
      tokenVerifier ??= new TokenVerifier(jwksThroughDiscovery(ctx.client('auth')), {
        onFetchError: (err) => logger.warn({ err: (err as Error).message ?? String(err) }, 'cannot fetch the auth signing keys (JWKS)'),
      });
      return tokenVerifier;
    },
    serviceId: () => serviceId,
    shuttingDown: shutdown.signal,
  };
  return {
    ctx,
    probes,
    clients,
    watchers,
    closers,
    sealClients: () => (settingUp = false),
    setServiceId: (id) => (serviceId = id),
    beginShutdown: () => shutdown.abort(),
  };
}
