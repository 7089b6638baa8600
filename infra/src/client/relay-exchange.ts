import type { Dispatcher } from 'undici';
import type { Instance } from '../sd/instance.js';
import type { Exchange } from './attempt.js';
import type { AttemptClock } from './attempt-clock.js';
import type { AttemptFailure } from './errors.js';
import { answerHeaders, type ResponseHeaders } from '../header-values.js';
import { parseHeaders } from './undici-parts.js';

/** Where a relayed body goes, chunk by chunk (the gateway: its client's response). */
export interface BodySink {
  /** A chunk of the body; false asks for a pause until the body's resume() is called. */
  write(chunk: Buffer): boolean;
  /**
   * The whole body arrived (undici has checked it against the answer's Content-Length), its last
   * chunk given here when it had not been written yet: a small answer, whole before delivery
   * began, is then written and ended in one call (one write of the client's response).
   */
  end(lastChunk?: Buffer): void;
  /** The body stopped short: the instance failed mid-body, or the caller cancelled the call. */
  fail(error: Error): void;
}

/** An answer's body as the relay hands it over (see ServiceClient.relay). */
export interface RelayedBody {
  /** Starts delivering the body into `sink`, chunks already received first (call it once). */
  deliver(sink: BodySink): void;
  /** Goes on with a delivery the sink paused (its write() returned false). */
  resume(): void;
  /** Stops the transfer for good (nobody wants the rest): the sink hears nothing more. */
  abort(): void;
}

/** How much of a body is held before it is delivered; past it the connection is paused. */
const HELD_LIMIT_BYTES = 64 * 1024;
/** How much of an unwanted body is read to keep its connection; beyond it the connection is closed. */
const DISCARD_LIMIT_BYTES = 64 * 1024;

type Phase = 'headers' | 'held' | 'delivering' | 'discarding' | 'done';

/**
 * One attempt's answer, relayed without a stream: this object is the attempt's undici dispatch
 * handler, the exchange the retry loop judges, and the body the caller delivers into its sink.
 * undici's request API would make a Readable, a promise, an async resource and a parse of the
 * headers per call, and the relay would then listen to that Readable; here the chunks undici
 * reads go straight to the sink's write(), and its pause is undici's own (onData returning false,
 * resumed through the function onHeaders was handed).
 *
 * Chunks arriving between the headers and deliver() (the retry policy judges the answer first;
 * a small answer's body comes in the same read as its headers) are held, up to HELD_LIMIT_BYTES
 * before the connection is paused. The attempt's clock aborts the request (ClockedHandler) when
 * it runs out or the caller cancels; once the body is handed over only the cancellation does.
 */
export class RelayExchange implements Exchange, RelayedBody, Dispatcher.DispatchHandler {
  status = 0;
  headers: ResponseHeaders = {};
  /** Resolves with this exchange when the final answer's headers arrive; rejects with the AttemptFailure of what failed before. */
  readonly answered: Promise<RelayExchange>;
  private phase: Phase = 'headers';
  private settle!: { resolve: (exchange: RelayExchange) => void; reject: (error: Error) => void };
  private abortRequest: ((error?: Error) => void) | undefined;
  private resumeParser: (() => void) | undefined;
  private held: Buffer[] | undefined;
  private heldBytes = 0;
  private complete = false;
  private failure: Error | undefined;
  private sink: BodySink | undefined;
  /** Tells the attempt its body ended (its span and in-flight count end then). */
  private ended: ((error?: Error) => void) | undefined;
  private discarded = 0;
  private discardDone: (() => void) | undefined;

  constructor(
    readonly instance: Instance,
    private readonly clock: AttemptClock,
  ) {
    this.answered = new Promise<RelayExchange>((resolve, reject) => (this.settle = { resolve, reject }));
  }

  classify(error: unknown): AttemptFailure {
    return this.clock.classify(error, this.instance);
  }

  /** The retry loop keeps this answer: `ended` is called when its body completes or fails. */
  handOver(ended: (error?: Error) => void): void {
    this.ended = ended;
    // A streamed body may take as long as it takes; the caller's cancellation still aborts it.
    this.clock.stopTimers();
  }

  deliver(sink: BodySink): void {
    if (this.phase !== 'held') return;
    this.phase = 'delivering';
    this.sink = sink;
    const held = this.held;
    this.held = undefined;
    let paused = false;
    // A body that is whole already keeps its last chunk for the sink's end().
    const last = held && this.complete ? held.pop() : undefined;
    if (held) {
      try {
        for (const chunk of held) {
          paused = !sink.write(chunk) || paused;
          // The sink may give up on the body while it writes (its client left): nothing more goes to it.
          if (this.phase !== 'delivering') return;
        }
      } catch (thrown) {
        // A sink that throws cannot take the body: the attempt ends (span, in-flight count, the
        // upstream connection) and the sink is told, as when the instance fails mid-body. (Its
        // writes from undici's onData need no such care: undici turns a throw there into onError.)
        return this.finish(thrown instanceof Error ? thrown : new Error(String(thrown)));
      }
    }
    if (this.complete) return this.finish(undefined, last);
    if (this.failure) return this.finish(this.failure);
    // undici was paused while the chunks were held: it goes on unless the sink itself is full.
    if (!paused && this.heldBytes >= HELD_LIMIT_BYTES) this.resumeParser?.();
    this.heldBytes = 0;
  }

  resume(): void {
    if (this.phase === 'delivering') this.resumeParser?.();
  }

  abort(): void {
    if (this.phase === 'done') return;
    this.sink = undefined;
    this.finish(new Error('the relayed body was abandoned'));
  }

  /** Drops the answer (a retry follows); a short body is read off so its connection is reused. */
  discard(): Promise<void> {
    if (this.phase !== 'held') return Promise.resolve();
    this.phase = 'discarding';
    this.discarded = this.heldBytes;
    this.held = undefined;
    if (this.complete || this.failure) {
      this.finish(undefined);
      return Promise.resolve();
    }
    if (this.discarded > DISCARD_LIMIT_BYTES) {
      this.finish(new Error('discarded body too large to read off'));
      return Promise.resolve();
    }
    // Made before the parser resumes: resuming parses what undici buffered at once, and the body
    // may end (finish() calling discardDone) before resume() returns.
    const done = new Promise<void>((resolve) => (this.discardDone = resolve));
    this.resumeParser?.();
    return done;
  }

  // ---------------------------------------------------------------- undici's handler (legacy API)

  onConnect(abort: (error?: Error) => void): void {
    this.abortRequest = abort;
  }

  onHeaders(status: number, rawHeaders: Buffer[], resume: () => void): boolean {
    // 1xx informational answers (100 Continue, 103 Early Hints) are not the answer.
    if (status < 200 || this.phase !== 'headers') return true;
    this.phase = 'held';
    this.status = status;
    this.headers = answerHeaders(parseHeaders(rawHeaders));
    this.resumeParser = resume;
    this.settle.resolve(this);
    return true;
  }

  onData(chunk: Buffer): boolean {
    switch (this.phase) {
      case 'delivering':
        return this.sink!.write(chunk);
      case 'held':
        (this.held ??= []).push(chunk);
        this.heldBytes += chunk.length;
        return this.heldBytes < HELD_LIMIT_BYTES;
      case 'discarding':
        this.discarded += chunk.length;
        if (this.discarded > DISCARD_LIMIT_BYTES) this.finish(new Error('discarded body too large to read off'));
        return true;
      default:
        return true;
    }
  }

  onComplete(): void {
    if (this.phase === 'held') this.complete = true;
    else if (this.phase === 'delivering' || this.phase === 'discarding') this.finish(undefined);
  }

  onError(error: Error): void {
    switch (this.phase) {
      case 'headers':
        // No answer: the attempt is over, and `answered` rejects with what the failure stands for.
        this.phase = 'done';
        this.clock.release();
        this.settle.reject(this.clock.classify(error, this.instance));
        return;
      case 'held':
        this.failure = error;
        return;
      case 'delivering':
      case 'discarding':
        this.finish(error);
        return;
      default:
    }
  }

  /** The body is over (whole, failed, abandoned or discarded): told once, to whoever holds it. */
  private finish(error: Error | undefined, lastChunk?: Buffer): void {
    const { phase, sink } = this;
    this.phase = 'done';
    this.held = undefined;
    this.sink = undefined;
    // Cut what is left of the transfer (undici closes the connection: its state is unknown).
    if (error && !this.complete) this.abortRequest?.(error);
    this.clock.release();
    if (phase === 'discarding') {
      this.discardDone?.();
      return;
    }
    this.ended?.(error);
    if (!sink) return;
    if (error) return sink.fail(error);
    try {
      sink.end(lastChunk);
    } catch (thrown) {
      // Called from undici's onComplete, which would swallow it: the sink is told its body failed
      // instead, so its response is cut rather than left open.
      sink.fail(thrown instanceof Error ? thrown : new Error(String(thrown)));
    }
  }
}

/** A fallback's whole answer as a RelayedBody: one chunk, then the end. */
export class BufferedBody implements RelayedBody {
  constructor(private body: Buffer | undefined) {}

  deliver(sink: BodySink): void {
    const body = this.body;
    this.body = undefined;
    if (body === undefined) return;
    sink.end(body.length > 0 ? body : undefined);
  }

  resume(): void {}

  abort(): void {
    this.body = undefined;
  }
}
