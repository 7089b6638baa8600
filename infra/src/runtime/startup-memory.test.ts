import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { releaseStartupMemory } from './startup-memory.js';

const MODULE = fileURLToPath(new URL('./startup-memory.ts', import.meta.url));

describe('releaseStartupMemory', () => {
  it('does nothing without --expose-gc, and says so from inside a tick', async () => {
    expect(typeof globalThis.gc).toBe('undefined');
    let inTick = false;
    const reported = new Promise<number | undefined>((resolve) => releaseStartupMemory(resolve));
    // A tick queued after it runs after it: the release runs in the nextTick queue, not in a promise reaction.
    process.nextTick(() => (inTick = true));
    expect(await reported).toBeUndefined();
    expect(inTick).toBe(true);
  });

  it('with --expose-gc, hands back what a regular full GC leaves committed', () => {
    // ~40 MiB of objects outlive two scavenges (so they sit in the old generation, as start-up's
    // do), then become garbage. A regular full GC, the one V8 runs on its own (possibly before the
    // call under load, which made a garbage-sized expectation racy), frees them but keeps pages
    // and semi-spaces committed; the release must hand those back down to about the live heap.
    const script = `
      const { releaseStartupMemory } = await import(${JSON.stringify(MODULE)});
      let held = [];
      for (let i = 0; i < 400_000; i++) held.push({ i, text: 'x'.repeat(64) + i });
      gc({ type: 'minor' }); gc({ type: 'minor' });
      held = undefined;
      gc({ type: 'major' });
      const before = process.memoryUsage().heapTotal;
      const pauseMs = await new Promise((resolve) => releaseStartupMemory(resolve));
      const { heapTotal: after, heapUsed: live } = process.memoryUsage();
      console.log(JSON.stringify({ before, after, live, pauseMs }));`;
    const child = spawnSync(process.execPath, ['--expose-gc', '--max-semi-space-size=16', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.stderr).toBe('');
    const { before, after, live, pauseMs } = JSON.parse(child.stdout) as { before: number; after: number; live: number; pauseMs: number };
    const MiB = 1024 * 1024;
    expect(pauseMs).toBeGreaterThan(0);
    expect(before - after).toBeGreaterThan(4 * MiB);
    expect(after - live).toBeLessThan(4 * MiB);
  });
});
