import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMysqlPool, createRedis } from '../stores.js';
import { unavailableDependency } from './dependency-errors.js';
import { toErrorResponse } from './error-handler.js';

/**
 * The drivers' real errors, produced against local sockets that misbehave the way an absent or
 * dying server does (no MySQL or Redis needed): refused, accepted then dropped, silent.
 */
const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function tcpServer(onConnection: (socket: Socket) => void): Promise<number> {
  const server = createServer((socket) => {
    sockets.push(socket);
    onConnection(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

/**
 * A port nothing listens on (tcpmux, never served). Not a freed ephemeral port: another process
 * on a busy machine could take that one between its release and the test's connect.
 */
const REFUSED_PORT = 1;

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: Error) => error,
  );
}

const mysqlAt = (port: number, options = {}) => createMysqlPool(`mysql://root@127.0.0.1:${port}/x`, options);

describe('unavailableDependency with real driver errors', () => {
  it('mysql refused (server stopped) → mysql', async () => {
    const pool = mysqlAt(REFUSED_PORT);
    const error = await rejection(pool.query('SELECT 1'));
    await pool.end();
    expect(error.code).toBe('ECONNREFUSED');
    expect(unavailableDependency(error)).toBe('mysql');
  });

  it('mysql connection dropped by the server → mysql', async () => {
    const pool = mysqlAt(await tcpServer((socket) => socket.destroy()));
    const error = await rejection(pool.query('SELECT 1'));
    await pool.end();
    expect(unavailableDependency(error)).toBe('mysql');
  });

  it('mysql server that accepts and never answers → connect timeout → mysql', async () => {
    const pool = mysqlAt(await tcpServer(() => undefined), { connectTimeout: 300, acquireTimeoutMs: 5_000 });
    const error = await rejection(pool.query('SELECT 1'));
    await pool.end();
    expect(error.code).toBe('ETIMEDOUT');
    expect(unavailableDependency(error)).toBe('mysql');
  });

  it('a query waiting for a pool connection fails after acquireTimeoutMs instead of queueing forever → mysql', async () => {
    const pool = mysqlAt(await tcpServer(() => undefined), { connectTimeout: 10_000, acquireTimeoutMs: 300, connectionLimit: 1 });
    const started = Date.now();
    const [first, queued] = await Promise.all([rejection(pool.query('SELECT 1')), rejection(pool.query('SELECT 2'))]);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(first.code).toBe('POOL_ACQUIRE_TIMEOUT');
    expect(queued.code).toBe('POOL_ACQUIRE_TIMEOUT');
    expect(unavailableDependency(queued)).toBe('mysql');
    // The connection attempt is still pending (10 s connect timeout): cut it so the pool can end.
    for (const socket of sockets) socket.destroy();
    await pool.end().catch(() => undefined);
  });

  it('redis unreachable → MaxRetriesPerRequestError → redis', async () => {
    const redis = createRedis(`redis://127.0.0.1:${REFUSED_PORT}`);
    redis.on('error', () => undefined);
    const error = await rejection(redis.get('k'));
    redis.disconnect();
    expect(error.name).toBe('MaxRetriesPerRequestError');
    expect(unavailableDependency(error)).toBe('redis');
  });

  it('redis closed without an offline queue → "Connection is closed." → redis', async () => {
    const redis = createRedis(`redis://127.0.0.1:${REFUSED_PORT}`, { enableOfflineQueue: false, lazyConnect: true });
    redis.on('error', () => undefined);
    const error = await rejection(redis.get('k'));
    redis.disconnect();
    expect(unavailableDependency(error)).toBe('redis');
  });
});

describe('unavailableDependency with other errors', () => {
  it('leaves query errors, bugs and unknown values alone', () => {
    const duplicate = Object.assign(new Error("Duplicate entry 'a' for key 'PRIMARY'"), { code: 'ER_DUP_ENTRY', errno: 1062, sqlState: '23000', fatal: false });
    expect(unavailableDependency(duplicate)).toBeUndefined();
    expect(unavailableDependency(new TypeError('x is undefined'))).toBeUndefined();
    expect(unavailableDependency(undefined)).toBeUndefined();
    expect(unavailableDependency('ECONNREFUSED')).toBeUndefined();
    // A bare ECONNREFUSED from something else (not mysql2, which marks it fatal) names no store.
    expect(unavailableDependency(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBeUndefined();
  });

  it('looks through errors a service wrapped', () => {
    const lost = Object.assign(new Error('Connection lost: The server closed the connection.'), { code: 'PROTOCOL_CONNECTION_LOST', fatal: true });
    expect(unavailableDependency(new Error('loading the feed failed', { cause: lost }))).toBe('mysql');
  });
});

describe('toErrorResponse for a store outage', () => {
  it('answers 503 dependency_unavailable naming the store', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), { code: 'ECONNREFUSED', fatal: true });
    expect(toErrorResponse(refused)).toEqual({
      status: 503,
      body: { error: { code: 'dependency_unavailable', message: 'mysql unavailable' } },
    });
    const redisDown = Object.assign(new Error('Reached the max retries per request limit'), { name: 'MaxRetriesPerRequestError' });
    expect(toErrorResponse(redisDown)).toEqual({
      status: 503,
      body: { error: { code: 'dependency_unavailable', message: 'redis unavailable' } },
    });
  });

  it('still answers 500 for anything else', () => {
    expect(toErrorResponse(new Error('boom')).status).toBe(500);
  });
});
