import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/support/wait.js';
import { InstanceBreakers } from './breakers.js';
import type { InstanceEvidence } from './retry-policy.js';

const breakers: InstanceBreakers[] = [];
afterEach(() => breakers.splice(0).forEach((b) => b.shutdown()));

/** Breakers that open after 2 failing calls (or 4 in a row) and offer a trial 100 ms later. */
function quickBreakers(): InstanceBreakers {
  const created = new InstanceBreakers('breakers-test', {
    errorThresholdPercentage: 50,
    volumeThreshold: 2,
    resetTimeoutMs: 100,
    rollingWindowMs: 10_000,
    consecutiveFailures: 4,
  });
  breakers.push(created);
  return created;
}

const attempt = (evidence: InstanceEvidence) => async () => evidence;

async function openThenHalfOpen(b: InstanceBreakers, id: string) {
  await b.run(id, attempt('failing'));
  await b.run(id, attempt('failing'));
  expect(b.state(id)).toBe('open');
  expect(b.isOpen(id)).toBe(true);
  await waitFor('the trial window (half-open)', () => b.state(id) === 'half-open', { timeoutMs: 5_000, intervalMs: 5 });
  // Half-open lets one trial through: the instance is offered again.
  expect(b.isOpen(id)).toBe(false);
}

describe('InstanceBreakers', () => {
  it('opens on failing evidence, and a failed trial opens it again', async () => {
    const b = quickBreakers();
    await openThenHalfOpen(b, 'a');
    expect(await b.run('a', attempt('failing'))).toBe(true);
    expect(b.state('a')).toBe('open');
  });

  it('keeps it open after a trial that proved nothing (cancelled, cut short), and closes it on a healthy one', async () => {
    const b = quickBreakers();
    await openThenHalfOpen(b, 'a');
    await b.run('a', attempt('none'));
    expect(b.state('a')).toBe('open');
    await waitFor('the next trial window', () => b.state('a') === 'half-open', { timeoutMs: 5_000, intervalMs: 5 });
    await b.run('a', attempt('healthy'));
    expect(b.state('a')).toBe('closed');
  });

  it('does not run the attempt while open, and counts no-evidence attempts neither way', async () => {
    const b = quickBreakers();
    let ran = 0;
    for (let i = 0; i < 10; i++) await b.run('quiet', async () => (ran++, 'none'));
    expect(b.state('quiet')).toBe('closed');
    await b.run('a', attempt('failing'));
    await b.run('a', attempt('failing'));
    expect(await b.run('a', async () => (ran++, 'healthy'))).toBe(false);
    expect(ran).toBe(10);
  });

  it("opens at once on 'gone' evidence (a refused connection), whatever the window held, and re-admits after a healthy trial", async () => {
    const b = quickBreakers();
    for (let i = 0; i < 20; i++) await b.run('a', attempt('healthy'));
    await b.run('a', attempt('gone'));
    expect(b.state('a')).toBe('open');
    await waitFor('the trial window (half-open)', () => b.state('a') === 'half-open', { timeoutMs: 5_000, intervalMs: 5 });
    await b.run('a', attempt('gone'));
    expect(b.state('a')).toBe('open');
    await waitFor('the next trial window', () => b.state('a') === 'half-open', { timeoutMs: 5_000, intervalMs: 5 });
    await b.run('a', attempt('healthy'));
    expect(b.state('a')).toBe('closed');
  });

  it('opens on a run of failures even when the window is full of earlier successes', async () => {
    const b = quickBreakers();
    for (let i = 0; i < 50; i++) await b.run('a', attempt('healthy'));
    for (let i = 0; i < 3; i++) await b.run('a', attempt('failing'));
    // 3 failures against 50 successes: far under 50 %, and not yet 4 in a row.
    expect(b.state('a')).toBe('closed');
    await b.run('a', attempt('healthy'));
    for (let i = 0; i < 3; i++) await b.run('a', attempt('failing'));
    expect(b.state('a')).toBe('closed'); // the success in between restarted the count
    await b.run('a', attempt('none')); // no evidence: neither breaks nor extends the run
    await b.run('a', attempt('failing'));
    expect(b.state('a')).toBe('open');
  });

  it('passes on an error the attempt itself throws', async () => {
    const b = quickBreakers();
    await expect(b.run('a', async () => Promise.reject(new Error('bug')))).rejects.toThrow('bug');
  });
});
