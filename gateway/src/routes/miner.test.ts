import { describe, expect, it } from 'vitest';
import { gatewayRoutes } from './index.js';

const route = (path: string) => {
  const found = gatewayRoutes.find((r) => r.path === path);
  if (!found) throw new Error(`no route ${path}`);
  return found;
};

describe('gateway route table', () => {
  it('maps /api/v1/rng/:n to rng /:n for n in 1..1024', () => {
    const rng = route('/api/v1/rng/:n');
    expect(rng.service).toBe('rng');
    expect(rng.resolveUpstreamPath({ n: '1' })).toBe('/1');
    expect(rng.resolveUpstreamPath({ n: '1024' })).toBe('/1024');
    expect(rng.resolveUpstreamPath({ n: '008' })).toBe('/8');
  });

  it.each(['0', '1025', '-1', '1.5', 'abc', '1e2', '0x10', '', ' 8', '99999999999'])('rejects n=%j', (n) => {
    expect(() => route('/api/v1/rng/:n').resolveUpstreamPath({ n })).toThrow(/must be a whole number from 1 to 1024/);
  });

  it('maps the miner stats to webui /api/stats', () => {
    const stats = route('/api/v1/miner/stats');
    expect(stats.service).toBe('webui');
    expect(stats.resolveUpstreamPath({})).toBe('/api/stats');
  });

  it('gives every route a deadline that allows at least one whole attempt', () => {
    for (const r of gatewayRoutes) expect(r.timeouts.deadlineMs).toBeGreaterThanOrEqual(r.timeouts.attemptTimeoutMs);
  });
});
