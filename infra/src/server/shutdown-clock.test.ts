import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ShutdownClock } from './shutdown-clock.js';

function capturingLogger() {
  const lines: Array<{ msg: string; step?: string }> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe('ShutdownClock', () => {
  it('cuts a step that overruns its budget, aborts its signal, and lets the next step run', async () => {
    const { logger, lines } = capturingLogger();
    const clock = new ShutdownClock(10_000, logger);
    let hookSignal: AbortSignal | undefined;
    await clock.step('hook', 50, ({ signal }) => {
      hookSignal = signal;
      return new Promise(() => {}); // never settles
    });
    expect(hookSignal?.aborted).toBe(true);
    expect(lines.some((l) => l.step === 'hook' && /did not finish within its budget/.test(l.msg))).toBe(true);
    let ran = false;
    await clock.step('next', 1_000, () => {
      ran = true;
    });
    expect(ran).toBe(true);
  });

  it('logs a failing step (sync or async) and goes on', async () => {
    const { logger, lines } = capturingLogger();
    const clock = new ShutdownClock(10_000, logger);
    await clock.step('sync', 1_000, () => {
      throw new Error('boom');
    });
    await clock.step('async', 1_000, async () => Promise.reject(new Error('bang')));
    expect(lines.filter((l) => /failed; going on/.test(l.msg)).map((l) => l.step)).toEqual(['sync', 'async']);
  });

  it('never gives a step more than what is left before the deadline, minus the reserve', async () => {
    let now = 0;
    const clock = new ShutdownClock(5_250, capturingLogger().logger, () => now);
    // 5 000 ms usable (250 kept for exiting), 1 000 reserved for later steps.
    let budget = -1;
    await clock.step('first', Infinity, ({ budgetMs }) => void (budget = budgetMs), 1_000);
    expect(budget).toBe(4_000);
    now = 4_500;
    await clock.step('late', 10_000, ({ budgetMs }) => void (budget = budgetMs));
    expect(budget).toBe(500);
    now = 9_000;
    expect(clock.left()).toBe(0);
  });
});
