import type { IncomingMessage } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import type { Cancellation } from '../cancellation.js';
import type { Instance } from '../sd/instance.js';
import { AttemptClock, type AttemptLimits } from './attempt-clock.js';
import type { AttemptFailure } from './errors.js';
import { flattenHeaders, type ResponseHeaders } from './transport.js';

// Not an ES import of node:http: that reads its lazy WebSocket/MessageEvent getters, which load
// Node's own bundled undici (infra/src/server/http-server.ts says more).
const { request: httpRequest } = process.getBuiltinModule('node:http');

export interface UpgradeOptions extends AttemptLimits {
  path: string;
  /** Request headers, including `connection: upgrade` and `upgrade: <protocol>`. */
  headers: Record<string, string>;
  signal?: Cancellation;
}

/** The instance's answer to an upgrade request: the switched connection, or a plain answer refusing it. */
export type UpgradeExchange = {
  status: number;
  headers: ResponseHeaders;
  /** Header lines exactly as the instance sent them (name, value, name, value...), for relaying a 101 verbatim. */
  rawHeaders: string[];
  discard(): Promise<void>;
  classify(error: unknown): AttemptFailure;
} & (
  | { upgraded: true; socket: Duplex; head: Buffer }
  | { upgraded: false; body: Readable }
);

/**
 * One upgrade handshake (e.g. WebSocket) with one instance, over a connection of its own:
 * an upgraded connection leaves any pool for good. The attempt's clock covers connecting
 * (bounded like a pool wait) and the handshake; once switched, the connection is the caller's.
 */
export function openUpgrade(instance: Instance, options: UpgradeOptions): Promise<UpgradeExchange> {
  const clock = new AttemptClock(options, options.signal);
  const controller = new AbortController();
  // A connection of its own: there is no pool to be saturated, a slow connect is the instance's.
  clock.attach({ abort: (reason) => controller.abort(reason), poolIsSaturated: () => false });
  return new Promise((resolve, reject) => {
    const request = httpRequest({
      host: instance.address,
      port: instance.port,
      method: 'GET',
      path: options.path,
      headers: options.headers,
      agent: false,
      signal: controller.signal,
    });
    request.once('socket', (socket) => {
      if (!socket.connecting) clock.connected();
      else socket.once('connect', () => clock.connected());
    });
    const classify = (error: unknown) => clock.classify(error, instance);
    request.once('error', (error) => {
      clock.release();
      reject(classify(error));
    });
    request.once('upgrade', (response: IncomingMessage, socket: Duplex, head: Buffer) => {
      clock.release();
      resolve({
        upgraded: true,
        status: response.statusCode ?? 101,
        headers: flattenHeaders(response.headers),
        rawHeaders: response.rawHeaders,
        socket,
        head,
        classify,
        discard: async () => void socket.destroy(),
      });
    });
    request.once('response', (response: IncomingMessage) => {
      // The attempt's timer keeps running until the refusal's body is read or dropped.
      response.once('close', () => clock.release());
      resolve({
        upgraded: false,
        status: response.statusCode ?? 502,
        headers: flattenHeaders(response.headers),
        rawHeaders: response.rawHeaders,
        body: response,
        classify,
        discard: async () => void response.destroy(),
      });
    });
    request.end();
  });
}
