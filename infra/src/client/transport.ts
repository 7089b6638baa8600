import type { Duplex, Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Cancellation } from '../cancellation.js';
import type { Instance } from '../sd/instance.js';
import { AttemptClock, type AttemptLimits, type AttemptTarget } from './attempt-clock.js';
import { AttemptFailure } from './errors.js';
import { answerHeaders, type ResponseHeaders } from '../header-values.js';
import { RelayExchange } from './relay-exchange.js';
import { Agent, DispatcherClass, request as undiciRequest } from './undici-parts.js';

// Where they lived first: the upgrade transport and a test still take them from here.
export { flattenHeaders, type ResponseHeaders } from '../header-values.js';

/** A buffered answer: status, headers and the whole body. */
export interface RawResponse {
  status: number;
  /**
   * Lower-cased response headers. Repeated headers are joined with ', ', except `set-cookie`,
   * which stays a list: cookies may contain commas, so joining them would corrupt them (RFC 6265 §3).
   */
  headers: ResponseHeaders;
  body: Buffer;
}

/** What one attempt sends (its headers apart: each attempt has its own trace context). */
export interface HttpRequest {
  /** Upper-case. */
  method: string;
  path: string;
  body?: Buffer | string | Uint8Array;
  /** The caller's cancellation (e.g. its own client disconnected). */
  signal?: Cancellation;
}

/** An instance as the transport addresses it. */
export interface HttpTarget {
  instance: Instance;
  /** `http://address:port`, see instanceOrigin. */
  origin: string;
}

/** An instance's answer whose headers arrived; its body is still on the wire. */
export interface HttpExchange {
  status: number;
  headers: ResponseHeaders;
  body: Readable;
  /** Reads the whole body within the attempt's time, failing past `maxBytes` (never buffering more). */
  readAll(maxBytes: number): Promise<Buffer>;
  /** Hands the body over to be streamed: the attempt's timers stop, the caller's cancellation still aborts. */
  detach(): Readable;
  /** Drops the answer (a retry follows); a short body is drained so its connection is reused. */
  discard(): Promise<void>;
  /** The AttemptFailure an error of this attempt stands for. */
  classify(error: unknown): AttemptFailure;
}

export interface TransportOptions {
  /** Connections kept per instance; past them, calls wait (at most `poolTimeoutMs`) for a free one. */
  connectionsPerInstance: number;
}

/** How much of an unwanted body is read to keep its connection; beyond it the connection is closed. */
const DISCARD_LIMIT_BYTES = 64 * 1024;

/** A dispatch option of ours: the attempt's clock, told when the request reaches a connection and able to abort it. */
interface DispatchWithClock extends Dispatcher.DispatchOptions {
  clock?: AttemptClock;
}

type Handler = Dispatcher.DispatchHandler;

/**
 * Passes the request API's handler through, making the attempt's clock its abort: undici calls
 * onConnect when the request is written to a connection (after any wait in the pool's queue and
 * any connect), handing over the function that aborts it, and the attempt's own time starts
 * then. The clock aborts through this handler instead of an AbortSignal: an AbortController and
 * two abort listeners per call (undici's and ours) cost more than the request's own dispatch.
 * (A plain forwarding object: undici's interceptor chain would wrap every handler twice.)
 */
class ClockedHandler implements Handler, AttemptTarget {
  private abortRequest: ((error?: Error) => void) | undefined;
  /** The request handler was told of an error (it settles once). */
  private failed = false;

  constructor(
    private readonly handler: Handler,
    private readonly clock: AttemptClock,
    private readonly dispatcher: ClockedDispatcher,
    private readonly origin: string,
  ) {
    clock.attach(this);
  }

  abort(reason: Error): void {
    if (this.abortRequest) this.abortRequest(reason);
    // Still queued for a connection, where undici would notice no abort before the request's
    // turn (nodejs/undici#386): the call fails now, and the request is dropped unsent when its
    // turn comes (onConnect).
    else this.fail(reason);
  }

  poolIsSaturated(): boolean {
    return this.dispatcher.poolIsSaturated(this.origin);
  }

  onConnect(abort: (error?: Error) => void): void {
    const { reason } = this.clock;
    if (reason) {
      abort(reason);
      return;
    }
    this.abortRequest = abort;
    this.clock.connected();
    this.handler.onConnect?.(abort);
  }

  onResponseStarted(): void {
    this.handler.onResponseStarted?.();
  }

  onHeaders(status: number, headers: Buffer[], resume: () => void, statusText: string): boolean {
    return this.handler.onHeaders?.(status, headers, resume, statusText) ?? true;
  }

  onData(chunk: Buffer): boolean {
    return this.handler.onData?.(chunk) ?? true;
  }

  onComplete(trailers: string[] | null): void {
    this.handler.onComplete?.(trailers);
  }

  onError(error: Error): void {
    this.fail(error);
  }

  onUpgrade(status: number, headers: Buffer[] | string[] | null, socket: Duplex): void {
    this.handler.onUpgrade?.(status, headers, socket);
  }

  private fail(error: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.handler.onError?.(error);
  }
}

/** The agent, with requests carrying a `clock` handled by a ClockedHandler. */
class ClockedDispatcher extends DispatcherClass {
  constructor(
    private readonly agent: Agent,
    private readonly connectionsPerInstance: number,
  ) {
    super();
  }

  override dispatch(options: DispatchWithClock, handler: Handler): boolean {
    const clock = options.clock;
    return this.agent.dispatch(options, clock ? new ClockedHandler(handler, clock, this, String(options.origin)) : handler);
  }

  override close(): Promise<void> {
    return this.agent.close();
  }

  override destroy(): Promise<void> {
    return this.agent.destroy();
  }

  /** Whether every connection of the instance's pool is open and busy. */
  poolIsSaturated(origin: string): boolean {
    const pool = (this.agent.stats as Record<string, { connected: number } | undefined>)[origin];
    return pool !== undefined && pool.connected >= this.connectionsPerInstance;
  }
}

/**
 * Sends one HTTP attempt to one instance over a keep-alive pool per instance (undici: see
 * BENCHMARKS.md for the comparison with axios on this hot path) and returns as soon as the
 * answer's headers arrive. Statuses are not judged here: the retry policy does that.
 */
export class Transport {
  private readonly agent: Agent;
  private readonly dispatcher: ClockedDispatcher;

  constructor(options: TransportOptions) {
    this.agent = new Agent({
      keepAliveTimeout: 4_000,
      // Below our servers' keep-alive timeout (6 s, see the server's http settings; Node's default
      // is 5 s), so we never reuse a socket the server is about to close.
      keepAliveMaxTimeout: 4_500,
      connections: options.connectionsPerInstance,
      connect: { timeout: 1_000 },
    });
    this.dispatcher = new ClockedDispatcher(this.agent, options.connectionsPerInstance);
  }

  /** Sends the request; resolves with the answer once its headers arrive, or rejects with an AttemptFailure. */
  async open(target: HttpTarget, limits: AttemptLimits, request: HttpRequest, headers: Record<string, string>): Promise<HttpExchange> {
    const { instance } = target;
    const clock = new AttemptClock(limits, request.signal);
    // Cancelled before it started: nothing is sent.
    if (clock.reason) throw clock.classify(clock.reason, instance);
    let response: Dispatcher.ResponseData;
    try {
      response = await undiciRequest(this.dispatcher, dispatchOptions(target, request, headers, clock));
    } catch (error) {
      clock.release();
      throw clock.classify(error, instance);
    }
    return new UndiciExchange(response, instance, clock, request.method);
  }

  /**
   * As open(), with the answer relayed rather than streamed: the exchange is undici's handler and
   * delivers the body straight into the caller's sink (relay-exchange.ts).
   */
  openRelay(target: HttpTarget, limits: AttemptLimits, request: HttpRequest, headers: Record<string, string>): Promise<RelayExchange> {
    const { instance } = target;
    const clock = new AttemptClock(limits, request.signal);
    if (clock.reason) return Promise.reject(clock.classify(clock.reason, instance));
    const exchange = new RelayExchange(instance, clock);
    try {
      this.dispatcher.dispatch(dispatchOptions(target, request, headers, clock), exchange);
    } catch (error) {
      exchange.onError(error instanceof Error ? error : new Error(String(error)));
    }
    // Not an async function: the exchange settles this promise itself (an AttemptFailure when it
    // rejects), so the answer reaches the attempt one promise hop after undici's onHeaders.
    return exchange.answered;
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** What undici is asked to send for one attempt, with the attempt's clock (ClockedDispatcher). */
function dispatchOptions(target: HttpTarget, request: HttpRequest, headers: Record<string, string>, clock: AttemptClock): DispatchWithClock {
  return { origin: target.origin, path: request.path, method: request.method as Dispatcher.HttpMethod, headers, body: request.body, clock };
}

/** An instance's answer as undici handed it over, with the attempt's clock (a class: no closures per call). */
class UndiciExchange implements HttpExchange {
  readonly status: number;
  readonly headers: ResponseHeaders;
  readonly body: Dispatcher.ResponseData['body'];

  constructor(
    private readonly response: Dispatcher.ResponseData,
    private readonly instance: Instance,
    private readonly clock: AttemptClock,
    private readonly method: string,
  ) {
    this.status = response.statusCode;
    this.headers = answerHeaders(response.headers);
    this.body = response.body;
    clock.holdBody(response.body);
  }

  classify(error: unknown): AttemptFailure {
    return this.clock.classify(error, this.instance);
  }

  async readAll(maxBytes: number): Promise<Buffer> {
    try {
      // A HEAD, 204 or 304 answer states the length of a body it does not carry.
      const status = this.response.statusCode;
      const bodyless = this.method === 'HEAD' || status === 204 || status === 304;
      const declared = bodyless ? undefined : this.response.headers['content-length'];
      return await readAtMost(this.body, maxBytes, declared, this.instance);
    } catch (error) {
      throw error instanceof AttemptFailure ? error : this.classify(error);
    } finally {
      this.clock.release();
    }
  }

  detach(): Readable {
    this.clock.stopTimers();
    this.body.on('close', () => this.clock.release());
    return this.body;
  }

  async discard(): Promise<void> {
    try {
      await this.body.dump({ limit: DISCARD_LIMIT_BYTES });
    } catch {
      // A body that fails while being dropped changes nothing: a retry follows anyway.
    } finally {
      this.clock.release();
    }
  }
}

/** The whole body, or an AttemptFailure as soon as it is known to exceed `maxBytes`. */
function readAtMost(
  body: Dispatcher.ResponseData['body'],
  maxBytes: number,
  declaredLength: string | string[] | undefined,
  instance: Instance,
): Promise<Buffer> {
  const declared = declaredLength === undefined ? NaN : Number(Array.isArray(declaredLength) ? declaredLength[0] : declaredLength);
  if (!Number.isFinite(declared)) return readCounting(body, maxBytes, instance);
  if (declared > maxBytes) {
    body.destroy();
    return Promise.reject(tooLarge(instance, `${declared} bytes`, maxBytes));
  }
  // The usual case, and the fast one: undici holds the body to its declared length.
  return body.arrayBuffer().then(asBuffer);
}

function asBuffer(bytes: ArrayBuffer): Buffer {
  return Buffer.from(bytes);
}

/** A body of no declared length, read chunk by chunk up to `maxBytes`. */
async function readCounting(body: Dispatcher.ResponseData['body'], maxBytes: number, instance: Instance): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of body) {
    received += (chunk as Buffer).length;
    if (received > maxBytes) {
      body.destroy();
      throw tooLarge(instance, `more than ${received} bytes`, maxBytes);
    }
    chunks.push(chunk as Buffer);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received);
}

function tooLarge(instance: Instance, what: string, maxBytes: number): AttemptFailure {
  return new AttemptFailure('response_too_large', `${instance.id} answered ${what}, over the ${maxBytes}-byte limit`, false, {
    countsAgainstInstance: false,
  });
}
