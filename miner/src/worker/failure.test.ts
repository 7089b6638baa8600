import { NoHealthyInstance, UpstreamTimeout, UpstreamUnavailable } from '@switchyard/infra';
import { describe, expect, it } from 'vitest';
import { MiningFailure, calling, failureReason } from './failure.js';

describe('failureReason', () => {
  it('tells an ejected-but-passing upstream from one Consul no longer lists', () => {
    expect(failureReason(new NoHealthyInstance('rng', 'ejected', 3))).toBe('all_ejected');
    expect(failureReason(new NoHealthyInstance('rng', 'gone', 0))).toBe('no_healthy_instance');
    expect(failureReason(new NoHealthyInstance('rng', 'not known yet', 0, false))).toBe('consul_unanswered');
  });

  it('keeps the client verdicts and files anything else as other', () => {
    expect(failureReason(new UpstreamTimeout('hasher', 'slow'))).toBe('upstream_timeout');
    expect(failureReason(new UpstreamUnavailable('hasher', 'refused'))).toBe('upstream_unavailable');
    expect(failureReason(new Error('surprise'))).toBe('other');
  });
});

describe('calling', () => {
  it('tags a failed call with its upstream and reason, keeping the cause', async () => {
    const cause = new NoHealthyInstance('rng-t1', 'ejected', 1);
    const failure = await calling('rng', () => Promise.reject(cause)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(MiningFailure);
    expect(failure).toMatchObject({ upstream: 'rng', reason: 'all_ejected', cause });
  });

  it('passes results through', async () => {
    expect(await calling('hasher', async () => 'ok')).toBe('ok');
  });
});
