import { AsyncResource } from 'node:async_hooks';
import { writeSync } from 'node:fs';
import { pino, type DestinationStream } from 'pino';

/** What a gathered destination writes into: pino's own asynchronous destination (sonic-boom). */
export interface LineSink {
  write(text: string): unknown;
  flush(cb?: (error?: Error) => void): void;
  flushSync(): void;
}

/** Gathered lines are written at once past this size, whatever the clock says. */
const GATHER_LIMIT_CHARS = 4096;

/**
 * Log lines gathered for up to `flushMs` (or 4 KiB) and written together, as nginx's
 * `access_log ... buffer= flush=` does. At low load every line written on its own is a hand-off to
 * libuv's pool and a wake-up back, on the request path's cores: at 1 connection the gateway's
 * access line cost ~30 µs of CPU per request and ~20 µs of its p50 that way (BENCHMARKS.md,
 * "Gateway hop"). Lines still go out in order, at most `flushMs` late; on exit what is gathered
 * is written synchronously, so only a process killed outright (SIGKILL, the OOM killer) loses
 * what it gathered in its last `flushMs`.
 */
export class GatheredLines implements DestinationStream {
  private pending = '';
  private armed = false;
  /**
   * One timer for the life of the destination, re-armed with refresh(). Made here, at start-up,
   * outside any request: a timer keeps the async context it was made in, and one made per flush
   * from a request's line would keep that request's context (its span, its objects) alive for
   * `flushMs`, long enough to outlive young-generation collections.
   */
  private readonly timer: NodeJS.Timeout;
  /**
   * The start-up context the timer is re-armed in: refresh() on a timer that has fired takes the
   * async context current at that call, which would otherwise be the request whose line came first.
   */
  private readonly startup = new AsyncResource('switchyard.log-lines');
  private readonly rearm = () => this.timer.refresh();

  constructor(
    private readonly out: LineSink,
    flushMs: number,
    /** The descriptor `out` writes to: the exit path writes there itself, synchronously. */
    private readonly fd: number,
  ) {
    this.timer = setTimeout(flushGathered, flushMs, this);
    this.timer.unref();
    // The first tick finds nothing to write; later ones are armed by write().
    this.armed = true;
    process.once('exit', () => this.writeAtExit());
  }

  write(line: string): boolean {
    this.pending += line;
    if (this.pending.length >= GATHER_LIMIT_CHARS) this.writeGathered();
    else if (!this.armed) {
      this.armed = true;
      this.startup.runInAsyncScope(this.rearm);
    }
    return true;
  }

  /** pino's logger.flush(): what is gathered, then what the destination holds. */
  flush(cb?: (error?: Error) => void): void {
    this.writeGathered();
    this.out.flush(cb);
  }

  /**
   * pino's flushSync (after a fatal line): what `out` queues, then what was gathered, both on the
   * descriptor when this returns (handed to `out`, the gathered text would be an asynchronous write).
   */
  flushSync(): void {
    this.out.flushSync();
    const text = this.pending;
    this.pending = '';
    writeAllSync(this.fd, text);
  }

  /**
   * The process is ending: what `out` still queues, then what was gathered, written synchronously
   * here. Handed to `out` instead, the gathered text would become an asynchronous write that the
   * ending process may never see done (a thread of libuv's pool would have to run it first).
   */
  writeAtExit(): void {
    try {
      this.out.flushSync();
    } catch {
      // The destination failed or is gone: what was gathered is still written below.
    }
    try {
      const text = this.pending;
      this.pending = '';
      writeAllSync(this.fd, text);
    } catch {
      // Standard output gone (a closed pipe): nothing left to tell anyone.
    }
  }

  /** The timer's tick: the lines gathered since the first of them. */
  tick(): void {
    this.armed = false;
    this.writeGathered();
  }

  private writeGathered(): void {
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    this.out.write(text);
  }
}

/** How long the exit path waits, in all, for a full pipe to take the last lines. */
const EXIT_WRITE_PATIENCE_MS = 1_000;

/** Writes all of `text` to `fd`, waiting out a full pipe (EAGAIN) for a while, as sonic-boom's flushSync does. */
function writeAllSync(fd: number, text: string): void {
  let rest = Buffer.from(text);
  const giveUpAt = Date.now() + EXIT_WRITE_PATIENCE_MS;
  while (rest.length > 0) {
    try {
      rest = rest.subarray(writeSync(fd, rest));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN' || Date.now() > giveUpAt) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}

function flushGathered(lines: GatheredLines): void {
  lines.tick();
}

/** Standard output as a gathered destination (LOG_FLUSH_MS), over pino's asynchronous one. */
export function gatheredStdout(flushMs: number): GatheredLines {
  const fd = process.stdout.fd ?? 1;
  return new GatheredLines(pino.destination({ dest: fd, sync: false }), flushMs, fd);
}
