import { NoHealthyInstance, UpstreamTimeout, UpstreamUnavailable, type ServiceRequest } from '@switchyard/infra';
import { describe, expect, it } from 'vitest';
import { localRngFallback, mayUseLocalRng } from './local-rng.js';

const request: ServiceRequest = { method: 'GET', path: '/32' };
const gone = () => new NoHealthyInstance('rng', 'no passing instance of rng in Consul', 0);
/** What a worker sees while Consul has never answered it (it booted while Consul was unreachable). */
const unknown = () => new NoHealthyInstance('rng', 'no instance of rng known yet: Consul has not answered this process', 0, false);
const ejected = (passing: number) =>
  new NoHealthyInstance('rng', `every instance of rng is ejected by its circuit breaker (${passing} passing in Consul)`, passing);

describe('the local rng fallback decision', () => {
  it('falls back only when Consul lists no passing rng instance', () => {
    expect(mayUseLocalRng(gone())).toBe(true);
  });

  it('does not fall back while Consul has never answered: no instance known is not no instance', () => {
    expect(mayUseLocalRng(unknown())).toBe(false);
  });

  it('does not fall back when rng instances are passing but this worker ejected them all', () => {
    // Overload or timeouts: bypassing rng would turn its overload into extra hashes/s.
    expect(mayUseLocalRng(ejected(1))).toBe(false);
    expect(mayUseLocalRng(ejected(4))).toBe(false);
  });

  it('does not fall back on timeouts or unavailable instances', () => {
    expect(mayUseLocalRng(new UpstreamTimeout('rng', 'rng-a did not answer within 5000 ms'))).toBe(false);
    expect(mayUseLocalRng(new UpstreamUnavailable('rng', 'rng unavailable: connection refused'))).toBe(false);
  });
});

describe('localRngFallback', () => {
  it('answers the requested number of random bytes, like one rng instance', async () => {
    const fallback = localRngFallback(32, 0);
    const [a, b] = await Promise.all([fallback(gone(), request), fallback(gone(), request)]);
    expect(a.status).toBe(200);
    expect(a.fromFallback).toBe(true);
    expect(a.body).toHaveLength(32);
    expect(a.body.equals(b.body)).toBe(false);
  });

  it('declines by rethrowing the very error when rng is only ejected or not yet discovered, so the worker backs off', async () => {
    const fallback = localRngFallback(32, 0);
    const error = ejected(2);
    await expect(fallback(error, request)).rejects.toBe(error);
    const undiscovered = unknown();
    await expect(fallback(undiscovered, request)).rejects.toBe(undiscovered);
    const timeout = new UpstreamTimeout('rng', 'too slow');
    await expect(fallback(timeout, request)).rejects.toBe(timeout);
  });

  it('makes bytes one at a time at the configured pace, never faster than an rng instance', async () => {
    const fallback = localRngFallback(8, 20);
    const started = Date.now();
    await Promise.all([1, 2, 3].map(() => fallback(gone(), request)));
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
  });
});
