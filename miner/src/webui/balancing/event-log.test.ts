import { describe, expect, it } from 'vitest';
import { EventLog } from './event-log.js';
import { view } from './test-views.js';

const ejected = (seq: number, at: number, instance = 'rng-a') => ({ seq, at, kind: 'ejected' as const, service: 'rng', instance });

describe('EventLog', () => {
  it('lists newest first, merges the same ejection seen by several callers, takes each event once', () => {
    const log = new EventLog();
    log.record({ at: 1_000, kind: 'joined', service: 'rng', instance: 'rng-a', detail: 'passing' });
    log.takeFrom(view('gw', 0, {}, { events: [ejected(1, 5_000), { seq: 2, at: 5_001, kind: 'left', service: 'rng', instance: 'rng-b' }] }));
    log.takeFrom(view('wk', 0, {}, { events: [ejected(7, 5_200)] }));
    log.takeFrom(view('gw', 1, {}, { events: [ejected(1, 5_000), { seq: 3, at: 9_000, kind: 'back', service: 'rng', instance: 'rng-a' }] }));
    log.record({ at: 12_000, kind: 'left', service: 'rng', instance: 'rng-a', detail: 'deregistered' });

    expect(log.list().map((e) => [e.kind, e.instance, e.by])).toEqual([
      ['left', 'rng-a', []],
      ['back', 'rng-a', ['gw']],
      ['ejected', 'rng-a', ['gw', 'wk']],
      ['joined', 'rng-a', []],
    ]);
  });

  it('reads a restarted caller from its first event again, and stays bounded', () => {
    const log = new EventLog(2);
    log.takeFrom(view('gw', 0, {}, { events: [ejected(1, 1_000, 'x')] }));
    log.takeFrom(view('gw', 1, {}, { startedAt: 2, events: [ejected(1, 60_000, 'y')] }));
    log.takeFrom(view('gw', 2, {}, { startedAt: 2, events: [ejected(1, 60_000, 'y'), ejected(2, 120_000, 'z')] }));
    expect(log.list().map((e) => e.instance)).toEqual(['z', 'y']);
  });
});
