import { Agent, request, errors as undiciErrors } from 'undici';
import type { Instance } from '../sd/instance.js';
import { instanceOrigin } from '../sd/instance.js';
import { AttemptFailure } from './errors.js';

export interface RawResponse {
  status: number;
  /**
   * Lower-cased response headers. Repeated headers are joined with ', ', except `set-cookie`,
   * which stays a list: cookies may contain commas, so joining them would corrupt them (RFC 6265 §3).
   */
  headers: ResponseHeaders;
  body: Buffer;
}

export type ResponseHeaders = Record<string, string | string[]>;

export interface SendOptions {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer | string | Uint8Array;
  timeoutMs: number;
  /**
   * A cancellation, or a timeout the deadline shortened, counts against the instance only once
   * the attempt has run this long (half the normal attempt timeout): sooner, it proves nothing.
   */
  evidenceAfterMs: number;
  /** The caller's cancellation (e.g. its own client disconnected). */
  signal?: AbortSignal;
}

/**
 * Sends one HTTP attempt to one instance over a shared keep-alive pool (undici: see
 * BENCHMARKS.md for the comparison with axios on this hot path). Connection errors, timeouts and
 * 5xx become AttemptFailure, so the breaker counts them; any other status is a normal answer.
 */
export class Transport {
  private readonly agent = new Agent({
    keepAliveTimeout: 4_000,
    // Below our servers' keep-alive timeout (6 s, server/service.ts; Node's default is 5 s), so
    // we never reuse a socket the server is about to close.
    keepAliveMaxTimeout: 4_500,
    connections: 64,
    connect: { timeout: 1_000 },
  });

  async send(instance: Instance, options: SendOptions): Promise<RawResponse> {
    const started = performance.now();
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    let response;
    try {
      response = await request(`${instanceOrigin(instance)}${options.path}`, {
        method: options.method as 'GET',
        headers: options.headers,
        body: options.body,
        signal,
        dispatcher: this.agent,
      });
    } catch (error) {
      throw classify(error, instance, options, timeout, performance.now() - started);
    }
    let body: Buffer;
    try {
      body = Buffer.from(await response.body.arrayBuffer());
    } catch (error) {
      throw classify(error, instance, options, timeout, performance.now() - started);
    }
    const headers = flattenHeaders(response.headers);
    if (response.statusCode >= 500) {
      throw new AttemptFailure('server_error', `${instance.id} answered ${response.statusCode}`, false, {
        status: response.statusCode,
        headers,
        body,
      });
    }
    return { status: response.statusCode, headers, body };
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

function classify(
  error: unknown,
  instance: Instance,
  options: SendOptions,
  timeout: AbortSignal,
  elapsedMs: number,
): AttemptFailure {
  if (options.signal?.aborted) {
    return new AttemptFailure('cancelled', `the caller cancelled the call to ${instance.id}`, false, undefined, {
      cause: error,
      countsAgainstInstance: elapsedMs >= options.evidenceAfterMs,
    });
  }
  if (timeout.aborted) {
    return new AttemptFailure('timeout', `${instance.id} did not answer within ${options.timeoutMs} ms`, false, undefined, {
      cause: error,
      countsAgainstInstance: options.timeoutMs >= options.evidenceAfterMs,
    });
  }
  const code = (error as { code?: string } | undefined)?.code;
  // Refused or never connected: the request certainly did not reach the instance.
  const notDelivered =
    code === 'ECONNREFUSED' || code === 'UND_ERR_CONNECT_TIMEOUT' || error instanceof undiciErrors.ConnectTimeoutError;
  const reason = error instanceof Error ? error.message : String(error);
  return new AttemptFailure('connection_error', `${instance.id}: ${code ?? reason}`, notDelivered, undefined, {
    cause: error,
  });
}

/** Headers that may only be repeated, never joined into one line. */
const LIST_ONLY_HEADERS = new Set(['set-cookie']);

export function flattenHeaders(headers: Record<string, string | string[] | undefined>): ResponseHeaders {
  const flat: ResponseHeaders = {};
  for (const [rawName, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const name = rawName.toLowerCase();
    if (LIST_ONLY_HEADERS.has(name)) flat[name] = Array.isArray(value) ? [...value] : [value];
    else flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
