import { ACQUIRE_TIMEOUT_CODE } from '../mysql-acquire-timeout.js';

export type Dependency = 'mysql' | 'redis';

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  fatal?: unknown;
  cause?: unknown;
}

/** Server answers that mean "not now" rather than "your query is wrong". */
const MYSQL_UNAVAILABLE_CODES = new Set([
  'ER_CON_COUNT_ERROR', // too many connections
  'ER_SERVER_SHUTDOWN',
  'ER_NORMAL_SHUTDOWN',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  ACQUIRE_TIMEOUT_CODE,
]);

/** ioredis's messages when it cannot reach Redis or gave up on a command. */
const REDIS_UNAVAILABLE_MESSAGES = new Set(['Connection is closed.', 'Command timed out', 'Stream isn\'t writeable and enableOfflineQueue options is false']);

/**
 * Which store an error says is unreachable, if any: such an error is the store's outage, not the
 * request's fault nor a bug, so it becomes a 503 the caller may retry (elsewhere, later). Errors
 * wrapped by a service (`new Error(..., { cause })`) are looked through.
 */
export function unavailableDependency(error: unknown): Dependency | undefined {
  for (let current = error, depth = 0; current && typeof current === 'object' && depth < 5; depth += 1) {
    const found = classify(current as ErrorLike);
    if (found) return found;
    current = (current as ErrorLike).cause;
  }
  return undefined;
}

function classify(error: ErrorLike): Dependency | undefined {
  // mysql2 marks every error that broke the connection itself `fatal` (refused, reset, timed out,
  // lost, closed): the server or the path to it is gone, whatever the statement was.
  if (error.fatal === true) return 'mysql';
  if (typeof error.code === 'string' && MYSQL_UNAVAILABLE_CODES.has(error.code)) return 'mysql';
  if (error.message === 'Queue limit reached.') return 'mysql';
  if (error.name === 'MaxRetriesPerRequestError' || error.name === 'ClusterAllFailedError') return 'redis';
  if (typeof error.message === 'string' && REDIS_UNAVAILABLE_MESSAGES.has(error.message)) return 'redis';
  if (error.name === 'ReplyError' && typeof error.message === 'string' && /^(LOADING|MASTERDOWN|TRYAGAIN)\b/.test(error.message)) {
    return 'redis';
  }
  return undefined;
}
