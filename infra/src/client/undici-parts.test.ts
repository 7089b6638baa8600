import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as undici from 'undici';
import { describe, expect, it } from 'vitest';
import { Agent, DispatcherClass, errors, request } from './undici-parts.js';

const MODULE = fileURLToPath(new URL('./undici-parts.ts', import.meta.url));

describe('undici parts', () => {
  it('are the very objects undici exports (an upgrade that moves a file fails here)', () => {
    expect(Agent).toBe(undici.Agent);
    expect(DispatcherClass).toBe(undici.Dispatcher);
    expect(errors).toBe(undici.errors);
    // The index installs the request API on every dispatcher; ours calls the same function.
    const installed = (undici.Dispatcher.prototype as unknown as { request: unknown }).request;
    expect(installed).toBeTypeOf('function');
    const calls: unknown[] = [];
    const probe = { dispatch: (options: unknown) => (calls.push(options), true) } as unknown as undici.Dispatcher;
    void request(probe, { origin: 'http://127.0.0.1:1', path: '/p', method: 'GET' });
    expect(calls).toEqual([expect.objectContaining({ origin: 'http://127.0.0.1:1', path: '/p', method: 'GET' })]);
  });

  it('load neither undici’s index nor Node’s bundled undici', () => {
    // A fresh process: this one has loaded the index above.
    const script = `
      await import(${JSON.stringify(MODULE)});
      const { createRequire } = await import('node:module');
      const index = createRequire(${JSON.stringify(MODULE)}).resolve('undici');
      console.log(JSON.stringify({
        index: Object.keys(createRequire(import.meta.url).cache).includes(index),
        bundled: process.moduleLoadList.includes('NativeModule internal/deps/undici/undici'),
      }));`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual({ index: false, bundled: false });
  });
});
