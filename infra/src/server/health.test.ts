import { describe, expect, it } from 'vitest';
import { markDegrading, runProbes, type Probe } from './health.js';

const up: Probe = async () => 'PONG';
const down = (why: string): Probe => async () => {
  throw new Error(why);
};

describe('runProbes', () => {
  it('is not ok when any probe fails', async () => {
    expect(await runProbes({ mysql: up, redis: down('connect ECONNREFUSED') })).toEqual({
      ok: false,
      degraded: false,
      checks: { mysql: 'ok', redis: 'failing: connect ECONNREFUSED' },
    });
  });

  it('stays ok, degraded, when only probes marked degrading fail', async () => {
    const probes = { mysql: up, redis: down('connect ECONNREFUSED'), redisEvents: down('subscriber connection reconnecting') };
    markDegrading(probes, ['redis', 'redisEvents']);
    expect(await runProbes(probes)).toEqual({
      ok: true,
      degraded: true,
      checks: { mysql: 'ok', redis: 'degraded: connect ECONNREFUSED', redisEvents: 'degraded: subscriber connection reconnecting' },
    });
    // A store the service cannot do without still decides.
    const withMysqlDown = { ...probes, mysql: down('connect ECONNREFUSED') };
    expect((await runProbes(withMysqlDown)).ok).toBe(false);
  });

  it('is plainly ok when a degrading probe passes', async () => {
    const probes = { redis: up };
    markDegrading(probes, ['redis']);
    expect(await runProbes(probes)).toEqual({ ok: true, degraded: false, checks: { redis: 'ok' } });
  });

  it('refuses to mark a probe that does not exist (a typo must not go unnoticed)', () => {
    expect(() => markDegrading({ redis: up }, ['redis-events'])).toThrow("no readiness probe named 'redis-events' (known: redis)");
  });
});
