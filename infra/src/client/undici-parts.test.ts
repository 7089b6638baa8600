import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as undici from 'undici';
import { describe, expect, it } from 'vitest';
import { Agent, DispatcherClass, errors, parseHeaders, request } from './undici-parts.js';

const MODULE = fileURLToPath(new URL('./undici-parts.ts', import.meta.url));

/** What a fresh process has loaded after importing `specifier`: undici's index, Node's bundled undici. */
function loadedBy(specifier: string): { index: boolean; bundled: boolean } {
  const script = `
    await import(${JSON.stringify(specifier)});
    const { createRequire } = await import('node:module');
    const require = createRequire(${JSON.stringify(MODULE)});
    console.log(JSON.stringify({
      index: Object.keys(require.cache).includes(require.resolve('undici')),
      bundled: process.moduleLoadList.includes('NativeModule internal/deps/undici/undici'),
    }));`;
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', env, timeout: 30_000 });
  expect(child.status, child.stderr).toBe(0);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as { index: boolean; bundled: boolean };
}

describe('undici parts', () => {
  it('are the very objects undici exports (an upgrade that moves a file fails here)', () => {
    expect(Agent).toBe(undici.Agent);
    expect(DispatcherClass).toBe(undici.Dispatcher);
    expect(errors).toBe(undici.errors);
    expect(parseHeaders).toBe(undici.util.parseHeaders);
    // The request API the index mixes into every dispatcher is the module `request` calls.
    const apiRequest = createRequire(MODULE)('undici/lib/api/api-request.js') as unknown;
    expect(apiRequest).toBe((undici.Dispatcher.prototype as unknown as { request: unknown }).request);
  });

  it('request dispatches on the dispatcher it is given', () => {
    const calls: unknown[] = [];
    const probe = { dispatch: (options: unknown) => (calls.push(options), true) };
    void request(probe, { origin: 'http://127.0.0.1:1', path: '/p', method: 'GET' });
    expect(calls).toEqual([expect.objectContaining({ origin: 'http://127.0.0.1:1', path: '/p', method: 'GET' })]);
  });

  it('load neither undici’s index nor Node’s bundled undici (undici’s index loads both)', () => {
    expect(loadedBy(MODULE)).toEqual({ index: false, bundled: false });
    // The control: the probe sees both when they are loaded.
    expect(loadedBy('undici')).toEqual({ index: true, bundled: true });
  });
});
