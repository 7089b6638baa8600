import { describe, expect, it } from 'vitest';
import { AttemptFailure } from './errors.js';
import { defaultRetryPolicy, statusRetryPolicy, type AttemptReport } from './retry-policy.js';

const get = { attempt: 1, method: 'GET', idempotent: true } satisfies AttemptReport;
const post = { attempt: 1, method: 'POST', idempotent: false } satisfies AttemptReport;
const answered = (status: number) => ({ status, headers: {} });

describe('defaultRetryPolicy', () => {
  it('relays an application error (500, 501) as the instance answer: healthy, not retried', () => {
    for (const status of [500, 501, 505]) expect(defaultRetryPolicy({ ...get, answer: answered(status) })).toEqual({ evidence: 'healthy', retry: false });
  });

  it('counts 502, 503 and 504 against the instance, and retries them when idempotent', () => {
    for (const status of [502, 503, 504]) {
      expect(defaultRetryPolicy({ ...get, answer: answered(status) })).toEqual({ evidence: 'failing', retry: true });
      expect(defaultRetryPolicy({ ...post, answer: answered(status) })).toEqual({ evidence: 'failing', retry: false });
    }
  });

  it('takes 429 as back-pressure: no evidence, retried elsewhere when idempotent', () => {
    expect(defaultRetryPolicy({ ...get, answer: answered(429) })).toEqual({ evidence: 'none', retry: true });
    expect(defaultRetryPolicy({ ...post, answer: answered(429) })).toEqual({ evidence: 'none', retry: false });
  });

  it('takes any other answer as it is', () => {
    for (const status of [200, 204, 301, 400, 404, 409]) expect(defaultRetryPolicy({ ...get, answer: answered(status) })).toEqual({ evidence: 'healthy', retry: false });
  });

  it('retries a request that never left whatever its method, a delivered one only when idempotent', () => {
    const refused = new AttemptFailure('connection_error', 'ECONNREFUSED', true);
    const cut = new AttemptFailure('connection_error', 'socket hang up', false);
    expect(defaultRetryPolicy({ ...post, failure: refused })).toEqual({ evidence: 'failing', retry: true });
    expect(defaultRetryPolicy({ ...post, failure: cut })).toEqual({ evidence: 'failing', retry: false });
    expect(defaultRetryPolicy({ ...get, failure: cut })).toEqual({ evidence: 'failing', retry: true });
  });

  it('holds nothing against the instance for a failure that proves nothing, and never retries a cancellation', () => {
    const early = new AttemptFailure('timeout', 'cut by the deadline', false, { countsAgainstInstance: false });
    expect(defaultRetryPolicy({ ...get, failure: early })).toEqual({ evidence: 'none', retry: true });
    const cancelled = new AttemptFailure('cancelled', 'caller left', false, { countsAgainstInstance: false });
    expect(defaultRetryPolicy({ ...get, failure: cancelled })).toEqual({ evidence: 'none', retry: false });
    const saturated = new AttemptFailure('pool_exhausted', 'pool full', true, { countsAgainstInstance: false });
    expect(defaultRetryPolicy({ ...post, failure: saturated })).toEqual({ evidence: 'none', retry: true });
    const huge = new AttemptFailure('response_too_large', 'too big', false, { countsAgainstInstance: false });
    expect(defaultRetryPolicy({ ...get, failure: huge })).toEqual({ evidence: 'healthy', retry: false });
  });
});

describe('statusRetryPolicy', () => {
  it('takes its own failure and back-pressure statuses', () => {
    const policy = statusRetryPolicy({ failureStatuses: [500], backPressureStatuses: [503] });
    expect(policy({ ...get, answer: answered(500) })).toEqual({ evidence: 'failing', retry: true });
    expect(policy({ ...get, answer: answered(503) })).toEqual({ evidence: 'none', retry: true });
    expect(policy({ ...get, answer: answered(502) })).toEqual({ evidence: 'healthy', retry: false });
  });
});
