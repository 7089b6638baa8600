import { Readable, type Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Cancellation } from '../cancellation.js';
import { createBalancer, type Balancer, type BalancerName } from '../balancer/index.js';
import { upstreamFallbacks } from '../metrics.js';
import type { Instance } from '../sd/instance.js';
import type { Instancer } from '../sd/instancer.js';
import type { Consume, Exchange } from './attempt.js';
import { defaultBreakerOptions, type BreakerOptions } from './breakers.js';
import { ColdStart } from './cold-start.js';
import { RequestCancelled, UpstreamError } from './errors.js';
import { InstanceState } from './instance-state.js';
import { RetryBudget, defaultRetryBudget, type RetryBudgetOptions } from './retry-budget.js';
import { callWithRetries, type CallPlan, type CallSite, type Opener } from './retry-loop.js';
import { defaultRetryPolicy, type RetryPolicy } from './retry-policy.js';
import { Transport, type HttpExchange, type RawResponse, type ResponseHeaders } from './transport.js';
import { openUpgrade, type UpgradeExchange } from './upgrade-transport.js';
import { BufferedBody, type RelayExchange, type RelayedBody } from './relay-exchange.js';
import { upstreamRegistry } from './upstream-registry.js';

export interface ServiceRequest {
  method?: string;
  /** Path and query, starting with `/`. Logs and traces record the path alone. */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string | Uint8Array;
  /** Defaults to true for GET, HEAD, OPTIONS, PUT and DELETE; set it for pure POSTs (e.g. hashing). */
  idempotent?: boolean;
  /** One attempt on one instance, timed from when a connection carries it (not the wait for one). */
  attemptTimeoutMs?: number;
  deadlineMs?: number;
  /** Cancels the call (and any retry), e.g. when the caller's own client disconnected. */
  signal?: Cancellation;
  /** Judges each attempt's outcome for this call (e.g. per gateway route); default: the client's. */
  retryPolicy?: RetryPolicy;
  /** request()/get()/post() only: the largest body buffered; default: the client's. */
  maxResponseBytes?: number;
}

export interface ServiceResponse extends RawResponse {
  /** The instance that answered; undefined when the fallback did. */
  instance?: Instance;
  fromFallback: boolean;
}

/** An answer whose body is read as it arrives (see ServiceClient.stream). */
export interface StreamingResponse {
  status: number;
  headers: ResponseHeaders;
  /** The body, with back-pressure; it errors if the instance fails mid-body. */
  body: Readable;
  instance?: Instance;
  fromFallback: boolean;
}

/** An answer whose body is delivered into a sink of the caller's (see ServiceClient.relay). */
export interface RelayedResponse {
  status: number;
  headers: ResponseHeaders;
  body: RelayedBody;
  instance?: Instance;
  fromFallback: boolean;
}

/** An upgrade request's outcome (see ServiceClient.upgrade). */
export type UpgradeResponse = {
  status: number;
  headers: ResponseHeaders;
  /** The answer's header lines as sent (name, value, ...), to relay a 101 verbatim. */
  rawHeaders: string[];
  instance: Instance;
} & (
  /** Switched: `socket` is the instance's end of the connection, `head` the first bytes already read from it. */
  | { upgraded: true; socket: Duplex; head: Buffer }
  /** The instance refused (e.g. 400, 404): its plain answer. */
  | { upgraded: false; body: Readable }
);

export type Fallback = (error: UpstreamError, request: ServiceRequest) => ServiceResponse | Promise<ServiceResponse>;

export interface ServiceClientOptions {
  balancer?: BalancerName | Balancer;
  /** Timeout of one attempt on one instance, from when a connection carries it. */
  attemptTimeoutMs?: number;
  /** Overall time for the call, retries included. */
  deadlineMs?: number;
  /** Attempts per call, each on a different instance when there is one. */
  maxAttempts?: number;
  retryBudget?: RetryBudgetOptions;
  breaker?: Partial<BreakerOptions>;
  /** Judges each attempt's outcome (instance health, retry or not). Default: defaultRetryPolicy. */
  retryPolicy?: RetryPolicy;
  /** Connections kept per instance (default 64). */
  connectionsPerInstance?: number;
  /**
   * How long a call waits for a connection to an instance, all of them being busy with this
   * process's own calls; then 503 pool_exhausted (local saturation, never held against the instance).
   */
  poolTimeoutMs?: number;
  /** The largest body request()/get()/post() buffer (default 8 MiB); past it, ResponseTooLarge (502). */
  maxResponseBytes?: number;
  /** Answers instead of throwing when no instance could (the paper's "the server does it itself"). */
  fallback?: Fallback;
  /** On a cold start, how long the first call waits for the watcher's first answer. */
  discoveryTimeoutMs?: number;
  logger?: Logger;
}

export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/** stream()'s consumer: hands the body over; the attempt ends when the body closes. (Not async: nothing to wait for.) */
function streamingAnswer(exchange: HttpExchange, endLater: () => (error?: Error) => void): StreamingResponse {
  const end = endLater();
  const body = exchange.detach();
  // 'on': a stream closes once, and once() would wrap the listener in a bound function.
  body.on('close', () => end(body.errored ?? undefined));
  return { status: exchange.status, headers: exchange.headers, body, fromFallback: false };
}

/** relay()'s consumer: the exchange itself is the body; the attempt ends when the body does. */
function relayedAnswer(exchange: RelayExchange, endLater: () => (error?: Error) => void): RelayedResponse {
  exchange.handOver(endLater());
  return { status: exchange.status, headers: exchange.headers, body: exchange, instance: exchange.instance, fromFallback: false };
}

/** What relay()'s `receive` threw, kept until the call's promise can reject with it. */
class ReceiverFailure {
  constructor(readonly error: unknown) {}
}

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** Whether a call with `method` is taken as idempotent when the caller does not say (RFC 9110 §9.2.2). */
export function idempotentByMethod(method: string): boolean {
  return IDEMPOTENT_METHODS.has(method);
}

/** A call's headers when it has none (each attempt copies them before adding its own). */
const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;

function upperCase(method: string | undefined): string {
  if (method === undefined || method === 'GET') return 'GET';
  return method.toUpperCase();
}

type Settings = Required<
  Pick<ServiceClientOptions, 'attemptTimeoutMs' | 'deadlineMs' | 'maxAttempts' | 'poolTimeoutMs' | 'maxResponseBytes' | 'retryPolicy'>
>;

/**
 * Calls a named service: instancer (passing instances) → minus open breakers and already-tried
 * instances → balancer → HTTP attempt through the instance's breaker → the retry policy's
 * verdict → another instance within the retry budget → optional fallback.
 * Three ways to call: request() buffers the answer, stream() hands its body over as it arrives,
 * upgrade() switches the connection (WebSocket).
 */
export class ServiceClient {
  private readonly site: CallSite;
  private readonly state: InstanceState;
  private readonly coldStart: ColdStart;
  private readonly transport: Transport;
  private readonly settings: Settings;
  /** How request() and stream() send an attempt: one function for every call. */
  private readonly openHttp: Opener<HttpExchange>;
  /** How relay() sends an attempt. */
  private readonly openRelay: Opener<RelayExchange>;
  /** Takes this client out of the `/metrics/upstreams` view. */
  private readonly unlist: () => void;

  constructor(
    readonly service: string,
    private readonly instancer: Instancer,
    private readonly options: ServiceClientOptions = {},
  ) {
    this.state = new InstanceState(service, instancer, { ...defaultBreakerOptions, ...options.breaker }, options.logger);
    const balancer =
      typeof options.balancer === 'object' ? options.balancer : createBalancer(options.balancer ?? 'round-robin', this.state.loadOf);
    this.site = {
      service,
      instancer,
      state: this.state,
      balancer,
      budget: new RetryBudget(options.retryBudget ?? defaultRetryBudget),
      logger: options.logger,
    };
    this.coldStart = new ColdStart(instancer, options.discoveryTimeoutMs ?? 3_000);
    this.unlist = upstreamRegistry.add(service, instancer, this.state);
    const transport = new Transport({ connectionsPerInstance: options.connectionsPerInstance ?? 64 });
    this.transport = transport;
    this.openHttp = (target, limits, request, headers) => transport.open(target, limits, request, headers);
    this.openRelay = (target, limits, request, headers) => transport.openRelay(target, limits, request, headers);
    this.settings = {
      attemptTimeoutMs: options.attemptTimeoutMs ?? 2_000,
      deadlineMs: options.deadlineMs ?? 5_000,
      maxAttempts: options.maxAttempts ?? 3,
      poolTimeoutMs: options.poolTimeoutMs ?? 1_000,
      maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      retryPolicy: options.retryPolicy ?? defaultRetryPolicy,
    };
  }

  /** Passing instances, as the shared instancer last saw them. */
  instances(): readonly Instance[] {
    return this.instancer.instances();
  }

  breakerState(instanceId: string) {
    return this.state.breakerState(instanceId);
  }

  /** Calls to an instance not finished yet (a relayed body counts until it ends, fails or is abandoned). */
  inFlight(instanceId: string): number {
    return this.state.loadOf(instanceId);
  }

  get(path: string, init: Omit<ServiceRequest, 'path' | 'method'> = {}): Promise<ServiceResponse> {
    return this.request({ ...init, method: 'GET', path });
  }

  post(path: string, body: ServiceRequest['body'], init: Omit<ServiceRequest, 'path' | 'method' | 'body'> = {}) {
    return this.request({ ...init, method: 'POST', path, body });
  }

  /** Calls the service and reads the whole answer (at most `maxResponseBytes`). */
  async request(request: ServiceRequest): Promise<ServiceResponse> {
    const maxBytes = request.maxResponseBytes ?? this.settings.maxResponseBytes;
    try {
      // Consumers are passed inline or shared: under tsx (esbuild keepNames) a closure held in a
      // named variable costs a defineProperty on every call.
      const { value, instance } = await this.call(request, this.openHttp, async (exchange): Promise<RawResponse> => ({
        status: exchange.status,
        headers: exchange.headers,
        body: await exchange.readAll(maxBytes),
      }));
      return { ...value, instance, fromFallback: false };
    } catch (error) {
      return this.fallback(error, request);
    }
  }

  /**
   * Calls the service and hands the answer over once its headers arrived: the body streams with
   * back-pressure and no size limit (the gateway relays it this way; server-sent events pass
   * event by event). Retries happen only before the headers: after them, a failure errors the
   * body. The attempt timeout and the deadline stop at the headers; `signal` still cancels.
   */
  async stream(request: ServiceRequest): Promise<StreamingResponse> {
    try {
      const { value, instance } = await this.call(request, this.openHttp, streamingAnswer);
      // The answer is this call's own object: completed in place rather than copied.
      value.instance = instance;
      return value;
    } catch (error) {
      const answer = await this.fallback(error, request);
      return { ...answer, body: Readable.from([answer.body], { objectMode: false }) };
    }
  }

  /**
   * As stream(), with the body delivered into a sink instead of a Readable (relay-exchange.ts):
   * `answer.body.deliver(sink)` writes each chunk as undici reads it, the sink's write() returning
   * false pauses the connection until `answer.body.resume()`, and `answer.body.abort()` stops the
   * transfer. No stream, no request promise and no listeners per call: the gateway's relay.
   *
   * `receive`, when given, is handed the answer as soon as the retry policy accepts it, inside the
   * attempt: one promise hop after its headers arrived, before the breaker's, the retry loop's and
   * this call's own promises settle (a small answer's body can then be delivered, and its
   * client's response ended, before any of that bookkeeping runs). The promise still resolves with
   * the same answer. A fallback's answer is not handed to `receive` (only resolved). Should
   * `receive` throw, the promise rejects with what it threw (the attempt itself counts as
   * answered: the instance did answer).
   */
  async relay(request: ServiceRequest, receive?: (answer: RelayedResponse) => void): Promise<RelayedResponse> {
    let answer: RelayedResponse | ReceiverFailure;
    try {
      // The receiving consumer is passed inline: under tsx (esbuild keepNames) a closure held in a
      // named variable costs a defineProperty on every call.
      ({ value: answer } = await this.call(
        request,
        this.openRelay,
        receive === undefined
          ? relayedAnswer
          : (exchange, endLater): RelayedResponse | ReceiverFailure => {
              const relayed = relayedAnswer(exchange, endLater);
              try {
                receive(relayed);
                return relayed;
              } catch (error) {
                return new ReceiverFailure(error);
              }
            },
      ));
    } catch (error) {
      const fallback = await this.fallback(error, request);
      return { status: fallback.status, headers: fallback.headers, body: new BufferedBody(fallback.body), instance: fallback.instance, fromFallback: true };
    }
    if (answer instanceof ReceiverFailure) throw answer.error;
    return answer;
  }

  /**
   * Sends an upgrade request (GET with `connection: upgrade` and `upgrade: <protocol>` among
   * `request.headers`) to one instance, retried elsewhere like any call until an instance
   * answers. The switched connection counts as in flight to its instance until it closes.
   */
  async upgrade(request: Omit<ServiceRequest, 'body' | 'method' | 'maxResponseBytes'>): Promise<UpgradeResponse> {
    const open: Opener<UpgradeExchange> = (target, limits, sent, headers) =>
      openUpgrade(target.instance, {
        poolTimeoutMs: limits.poolTimeoutMs,
        timeoutMs: limits.timeoutMs,
        deadline: limits.deadline,
        evidenceAfterMs: limits.evidenceAfterMs,
        path: sent.path,
        headers,
        signal: sent.signal,
      });
    const consume: Consume<UpgradeExchange, Omit<UpgradeResponse, 'instance'>> = async (exchange, endLater) => {
      const end = endLater();
      const held = exchange.upgraded ? exchange.socket : exchange.body;
      held.once('close', () => end());
      if (exchange.upgraded) {
        const { status, headers, rawHeaders, socket, head } = exchange;
        return { upgraded: true, status, headers, rawHeaders, socket, head };
      }
      const { status, headers, rawHeaders, body } = exchange;
      return { upgraded: false, status, headers, rawHeaders, body };
    };
    const { value, instance } = await this.call({ ...request, method: 'GET' }, open, consume);
    return { ...value, instance } as UpgradeResponse;
  }

  async close(): Promise<void> {
    this.unlist();
    this.state.close();
    await this.transport.close();
  }

  private call<E extends Exchange, T>(request: ServiceRequest, open: Opener<E>, consume: Consume<E, T>): Promise<{ value: T; instance: Instance }> {
    const deadline = Date.now() + (request.deadlineMs ?? this.settings.deadlineMs);
    // Not an async function: a warm client (the usual case) goes straight to the retry loop.
    if (!this.coldStart.pending) return callWithRetries(this.site, this.plan(request, deadline, open, consume));
    return this.coldStart.wait(deadline, request.signal).then(() => callWithRetries(this.site, this.plan(request, deadline, open, consume)));
  }

  private plan<E extends Exchange, T>(request: ServiceRequest, deadline: number, open: Opener<E>, consume: Consume<E, T>): CallPlan<E, T> {
    const method = upperCase(request.method);
    return {
      method,
      path: request.path,
      body: request.body,
      headers: request.headers ?? NO_HEADERS,
      idempotent: request.idempotent ?? idempotentByMethod(method),
      policy: request.retryPolicy ?? this.settings.retryPolicy,
      maxAttempts: this.settings.maxAttempts,
      attemptTimeoutMs: request.attemptTimeoutMs ?? this.settings.attemptTimeoutMs,
      poolTimeoutMs: this.settings.poolTimeoutMs,
      deadline,
      signal: request.signal,
      open,
      consume,
    };
  }

  /** The fallback's answer to a failed call, or the error when there is none (or it was a cancellation). */
  private async fallback(error: unknown, request: ServiceRequest): Promise<ServiceResponse> {
    if (!(error instanceof UpstreamError) || error instanceof RequestCancelled || !this.options.fallback) throw error;
    const answer = await this.options.fallback(error, request);
    // Counted once the fallback answered: a fallback may decline by rethrowing.
    upstreamFallbacks.inc({ service: this.service });
    return { ...answer, fromFallback: true };
  }
}
