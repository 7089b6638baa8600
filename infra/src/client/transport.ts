import type { Duplex, Readable } from 'node:stream';
import { Agent, Dispatcher } from 'undici';
import type { Instance } from '../sd/instance.js';
import { instanceOrigin } from '../sd/instance.js';
import { AttemptClock, type AttemptLimits } from './attempt-clock.js';
import { AttemptFailure } from './errors.js';
import { headerValue } from '../header-values.js';

export type ResponseHeaders = Record<string, string | string[]>;

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

export interface SendOptions extends AttemptLimits {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer | string | Uint8Array;
  /** The caller's cancellation (e.g. its own client disconnected). */
  signal?: AbortSignal;
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

/** Told once its request is written to a connection (an object, not a callback: no closure per call). */
interface DispatchNotice {
  connected(): void;
}

/** A dispatch option of ours: told once the request is written to a connection. */
interface DispatchWithNotice extends Dispatcher.DispatchOptions {
  onDispatched?: DispatchNotice;
}

type Handler = Dispatcher.DispatchHandler;

/**
 * undici calls a handler's onConnect when its request is written to a connection (after any
 * wait in the pool's queue and any connect): the moment the attempt's own clock starts. This
 * passes the request API's handler through, telling `notice` at that moment. (A plain forwarding
 * object: undici's interceptor chain would wrap every handler twice on this hot path.)
 */
class NoticingHandler implements Handler {
  constructor(
    private readonly handler: Handler,
    private readonly notice: DispatchNotice,
  ) {}

  onConnect(abort: (error?: Error) => void): void {
    this.notice.connected();
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
    this.handler.onError?.(error);
  }

  onUpgrade(status: number, headers: Buffer[] | string[] | null, socket: Duplex): void {
    this.handler.onUpgrade?.(status, headers, socket);
  }
}

/** The agent, with requests carrying `onDispatched` told when they reach a connection. */
class NoticingDispatcher extends Dispatcher {
  constructor(private readonly agent: Agent) {
    super();
  }

  override dispatch(options: DispatchWithNotice, handler: Handler): boolean {
    const notice = options.onDispatched;
    return this.agent.dispatch(options, notice ? new NoticingHandler(handler, notice) : handler);
  }

  override close(): Promise<void> {
    return this.agent.close();
  }

  override destroy(): Promise<void> {
    return this.agent.destroy();
  }
}

/**
 * Sends one HTTP attempt to one instance over a keep-alive pool per instance (undici: see
 * BENCHMARKS.md for the comparison with axios on this hot path) and returns as soon as the
 * answer's headers arrive. Statuses are not judged here: the retry policy does that.
 */
export class Transport {
  private readonly agent: Agent;
  private readonly dispatcher: Dispatcher;

  constructor(private readonly options: TransportOptions) {
    this.agent = new Agent({
      keepAliveTimeout: 4_000,
      // Below our servers' keep-alive timeout (6 s, see the server's http settings; Node's default
      // is 5 s), so we never reuse a socket the server is about to close.
      keepAliveMaxTimeout: 4_500,
      connections: options.connectionsPerInstance,
      connect: { timeout: 1_000 },
    });
    this.dispatcher = new NoticingDispatcher(this.agent);
  }

  /** Sends the request; resolves with the answer once its headers arrive, or rejects with an AttemptFailure. */
  async open(instance: Instance, options: SendOptions): Promise<HttpExchange> {
    const origin = instanceOrigin(instance);
    const clock = new AttemptClock(options, options.signal, () => this.poolIsSaturated(origin));
    let response: Dispatcher.ResponseData;
    try {
      const request: DispatchWithNotice & Dispatcher.RequestOptions = {
        origin,
        path: options.path,
        method: options.method as Dispatcher.HttpMethod,
        headers: options.headers,
        body: options.body,
        signal: clock.signal,
        onDispatched: clock,
      };
      response = await untilAborted(this.dispatcher.request(request), clock.signal);
    } catch (error) {
      clock.release();
      throw clock.classify(error, instance);
    }
    return new UndiciExchange(response, instance, clock, options.method);
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  private poolIsSaturated(origin: string): boolean {
    const pool = (this.agent.stats as Record<string, { connected: number } | undefined>)[origin];
    return pool !== undefined && pool.connected >= this.options.connectionsPerInstance;
  }
}

/**
 * `pending`, or a rejection as soon as `signal` aborts. undici notices an aborted signal only
 * when the request reaches a connection (nodejs/undici#386), so a request still queued in the pool
 * would otherwise wait for a free connection before failing. Left behind, it is dropped unsent
 * when its turn comes; should it have got an answer meanwhile, that answer is discarded.
 */
function untilAborted(pending: Promise<Dispatcher.ResponseData>, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
  if (signal.aborted) return Promise.reject(abandon(pending, signal));
  return new Promise((resolve, reject) => {
    // An EventListener object rather than a closure: once per call, and every named closure
    // costs a defineProperty under tsx (esbuild's keepNames).
    const race = new AbortRace(pending, signal, reject);
    signal.addEventListener('abort', race, { once: true });
    pending.then(
      (response) => {
        signal.removeEventListener('abort', race);
        resolve(response);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', race);
        reject(error);
      },
    );
  });
}

/** untilAborted's abort listener. */
class AbortRace {
  constructor(
    private readonly pending: Promise<Dispatcher.ResponseData>,
    private readonly signal: AbortSignal,
    private readonly reject: (error: unknown) => void,
  ) {}

  handleEvent(): void {
    this.reject(abandon(this.pending, this.signal));
  }
}

/** Leaves `pending` behind: dropped unsent when its turn comes, its answer discarded should one come. */
function abandon(pending: Promise<Dispatcher.ResponseData>, signal: AbortSignal): Error {
  pending.then(
    (late) => late.body.destroy(),
    () => undefined,
  );
  return signal.reason as Error;
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
    this.headers = flattenHeaders(response.headers);
    this.body = response.body;
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
    this.body.once('close', () => this.clock.release());
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
async function readAtMost(
  body: Dispatcher.ResponseData['body'],
  maxBytes: number,
  declaredLength: string | string[] | undefined,
  instance: Instance,
): Promise<Buffer> {
  const declared = declaredLength === undefined ? NaN : Number(Array.isArray(declaredLength) ? declaredLength[0] : declaredLength);
  if (Number.isFinite(declared)) {
    if (declared > maxBytes) {
      body.destroy();
      throw tooLarge(instance, `${declared} bytes`, maxBytes);
    }
    // The usual case, and the fast one: undici holds the body to its declared length.
    return Buffer.from(await body.arrayBuffer());
  }
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

export function flattenHeaders(headers: Record<string, string | string[] | undefined>): ResponseHeaders {
  const flat: ResponseHeaders = {};
  for (const [rawName, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const name = rawName.toLowerCase();
    flat[name] = headerValue(name, value);
  }
  return flat;
}
