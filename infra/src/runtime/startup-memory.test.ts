import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { releaseStartupMemory } from './startup-memory.js';

const MODULE = fileURLToPath(new URL('./startup-memory.ts', import.meta.url));

describe('releaseStartupMemory', () => {
  it('does nothing without --expose-gc', () => {
    expect(typeof globalThis.gc).toBe('undefined');
    expect(releaseStartupMemory()).toBeUndefined();
  });

  it('with --expose-gc, hands back the heap that garbage left committed', () => {
    // A process as the image runs it: ~40 MiB of objects outlive two scavenges (so they sit in
    // the old generation, as start-up's do), then become garbage.
    const script = `
      const { releaseStartupMemory } = await import(${JSON.stringify(MODULE)});
      let held = [];
      for (let i = 0; i < 400_000; i++) held.push({ i, text: 'x'.repeat(64) + i });
      gc({ type: 'minor' }); gc({ type: 'minor' });
      held = undefined;
      const before = process.memoryUsage().heapTotal;
      const pauseMs = releaseStartupMemory();
      console.log(JSON.stringify({ before, after: process.memoryUsage().heapTotal, pauseMs }));`;
    const child = spawnSync(process.execPath, ['--expose-gc', '--max-semi-space-size=4', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.stderr).toBe('');
    const { before, after, pauseMs } = JSON.parse(child.stdout) as { before: number; after: number; pauseMs: number };
    expect(pauseMs).toBeGreaterThan(0);
    expect(before - after).toBeGreaterThan(20 * 1024 * 1024);
  });
});
