import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as flexible from 'rate-limiter-flexible';
import { describe, expect, it } from 'vitest';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from './rate-limiter-parts.js';

const MODULE = fileURLToPath(new URL('./rate-limiter-parts.ts', import.meta.url));

describe('rate-limiter parts', () => {
  it('are the very classes rate-limiter-flexible exports (an upgrade that moves a file fails here)', () => {
    expect(RateLimiterRedis).toBe(flexible.RateLimiterRedis);
    expect(RateLimiterMemory).toBe(flexible.RateLimiterMemory);
    expect(RateLimiterRes).toBe(flexible.RateLimiterRes);
  });

  it("load neither the package's index nor the stores the platform does not use", () => {
    const script = `
      await import(${JSON.stringify(MODULE)});
      const { createRequire } = await import('node:module');
      const require = createRequire(${JSON.stringify(MODULE)});
      const loaded = Object.keys(require.cache);
      console.log(JSON.stringify({
        index: loaded.includes(require.resolve('rate-limiter-flexible')),
        mongo: loaded.some((file) => file.endsWith('RateLimiterMongo.js')),
        redis: loaded.some((file) => file.endsWith('RateLimiterRedis.js')),
      }));`;
    const { NODE_OPTIONS: _ignored, ...env } = process.env;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', env, timeout: 30_000 });
    expect(child.status, child.stderr).toBe(0);
    expect(JSON.parse(child.stdout.trim().split('\n').at(-1)!)).toEqual({ index: false, mongo: false, redis: true });
  });
});
