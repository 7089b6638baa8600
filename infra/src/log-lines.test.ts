import { AsyncLocalStorage } from 'node:async_hooks';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { waitFor } from '../../test/support/wait.js';
import { GatheredLines, type LineSink } from './log-lines.js';

/** What the gathered lines handed on, write by write. */
function sink() {
  const writes: string[] = [];
  let syncFlushes = 0;
  const out: LineSink = {
    write: (text) => writes.push(text),
    flush: (cb) => cb?.(),
    flushSync: () => void (syncFlushes += 1),
  };
  return { out, writes, syncFlushes: () => syncFlushes };
}

describe('log lines gathered and written together', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('writes the lines of one period together, in order, once the period is over', () => {
    const { out, writes } = sink();
    const lines = new GatheredLines(out, 100, -1);
    vi.advanceTimersByTime(500);
    lines.write('a\n');
    vi.advanceTimersByTime(60);
    lines.write('b\n');
    lines.write('c\n');
    expect(writes).toEqual([]);
    vi.advanceTimersByTime(40);
    expect(writes).toEqual(['a\nb\nc\n']);
    // Nothing gathered: the clock stays still, and nothing is written.
    vi.advanceTimersByTime(1_000);
    expect(writes).toEqual(['a\nb\nc\n']);
    lines.write('d\n');
    vi.advanceTimersByTime(100);
    expect(writes).toEqual(['a\nb\nc\n', 'd\n']);
  });

  it('writes at once past 4 KiB, whatever the clock says', () => {
    const { out, writes } = sink();
    const lines = new GatheredLines(out, 100, -1);
    const line = `${'x'.repeat(1023)}\n`;
    for (let i = 0; i < 4; i++) lines.write(line);
    expect(writes).toEqual([line.repeat(4)]);
    lines.write('after\n');
    vi.advanceTimersByTime(100);
    expect(writes).toEqual([line.repeat(4), 'after\n']);
  });

  it("hands what it gathered on to pino's flush", () => {
    const { out, writes, syncFlushes } = sink();
    const lines = new GatheredLines(out, 100, -1);
    lines.write('a\n');
    const flushed = vi.fn();
    lines.flush(flushed);
    expect(writes).toEqual(['a\n']);
    expect(flushed).toHaveBeenCalledOnce();
    expect(syncFlushes()).toBe(0);
  });

  /** Gathers `lines` onto a real file, ends them with `finish`: what the file and the destination then hold. */
  function gatheredOntoFile(lines: string[], finish: (gathered: GatheredLines) => void) {
    const { out, writes, syncFlushes } = sink();
    const file = join(mkdtempSync(join(tmpdir(), 'log-lines-')), 'out.log');
    const fd = openSync(file, 'w');
    try {
      const gathered = new GatheredLines(out, 100, fd);
      for (const line of lines) gathered.write(line);
      finish(gathered);
      return { onFile: readFileSync(file, 'utf8'), writes, syncFlushes: syncFlushes() };
    } finally {
      closeSync(fd);
    }
  }

  it('at exit, writes what it gathered itself, synchronously, after what its destination still queues', () => {
    const result = gatheredOntoFile(['a\n', 'b\n'], (gathered) => gathered.writeAtExit());
    // Not handed to the destination, whose write would be asynchronous: on the file already.
    expect(result).toEqual({ onFile: 'a\nb\n', writes: [], syncFlushes: 1 });
  });

  it("on pino's flushSync (a fatal line), writes what it gathered itself, synchronously", () => {
    const result = gatheredOntoFile(['fatal\n'], (gathered) => gathered.flushSync());
    expect(result).toEqual({ onFile: 'fatal\n', writes: [], syncFlushes: 1 });
  });

  it('keeps no process alive: its timer is unref-ed', () => {
    const { out } = sink();
    const lines = new GatheredLines(out, 100, -1);
    lines.write('a\n');
    expect((lines as unknown as { timer: NodeJS.Timeout }).timer.hasRef()).toBe(false);
  });
});

describe('a service logger with LOG_FLUSH_MS, in a real process', () => {
  it('writes every line gathered before process.exit, without waiting for the clock', () => {
    const script = fileURLToPath(new URL('../test/fixtures/log-lines-exit.ts', import.meta.url));
    const started = Date.now();
    const run = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 30_000 });
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { msg: string });
    expect(lines.map((l) => l.msg)).toEqual(['first', 'second', 'third']);
    // Gathered for 10 s, yet out at exit.
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('the gathering timer, on real timers', () => {
  it("ticks in the start-up context, not in that of the request whose line re-armed it", async () => {
    const store = new AsyncLocalStorage<string>();
    const seen: Array<string | undefined> = [];
    const out: LineSink = {
      write: () => void seen.push(store.getStore()),
      flush: (cb) => cb?.(),
      flushSync: () => undefined,
    };
    const lines = new GatheredLines(out, 20, -1);
    // Past the first tick: from now on write() re-arms a timer that has already fired.
    await new Promise((resolve) => setTimeout(resolve, 60));
    store.run('request-42', () => lines.write('a\n'));
    await waitFor('the gathered line to be written', () => seen.length === 1);
    expect(seen).toEqual([undefined]);
  });
});
