import { describe, expect, it } from 'vitest';
import { parseDuration, parseLoadArgs, UsageError } from './args.js';
import { Histogram } from './histogram.js';
import { dueAtMs, dueBy, sleepUntilDueMs, totalRequests } from './schedule.js';
import { failureReason, formatMs, formatTable, summarize, Tally } from './summary.js';

describe('open-loop schedule', () => {
  it('spaces requests 1/rps apart from the start', () => {
    expect([0, 1, 2, 10].map((i) => dueAtMs(i, 100))).toEqual([0, 10, 20, 100]);
    expect(dueAtMs(3, 4)).toBe(750);
  });

  it('counts the requests due by a time, never more than the run has', () => {
    expect(dueBy(-1, 100, 50)).toBe(0);
    expect(dueBy(0, 100, 50)).toBe(1);
    expect(dueBy(9.99, 100, 50)).toBe(1);
    expect(dueBy(10, 100, 50)).toBe(2);
    expect(dueBy(10_000, 100, 50)).toBe(50);
  });

  it('sends rps × duration requests, rounding a partial slot up', () => {
    expect(totalRequests(100, 2_000)).toBe(200);
    expect(totalRequests(3, 500)).toBe(2);
  });

  it('sleeps until the next due time, never a negative time when behind', () => {
    expect(sleepUntilDueMs(5, 100, 42)).toBe(8);
    expect(sleepUntilDueMs(5, 100, 60)).toBe(0);
  });
});

describe('Histogram', () => {
  it('reports percentiles within 1 % of the exact nearest-rank values', () => {
    const h = new Histogram();
    const values = Array.from({ length: 10_000 }, (_, i) => 0.05 + i * 0.01); // 0.05 … 100.04 ms
    for (const v of [...values].reverse()) h.record(v);
    const exact = (p: number) => values[Math.ceil((p / 100) * values.length) - 1]!;
    for (const p of [1, 50, 90, 99, 99.9]) {
      expect(Math.abs(h.percentile(p) - exact(p)) / exact(p), `p${p}`).toBeLessThanOrEqual(0.01);
    }
    expect(h.percentile(100)).toBe(h.max);
    expect(h.max).toBeCloseTo(100.04, 6);
    expect(h.count).toBe(10_000);
    expect(h.mean()).toBeCloseTo(50.045, 3);
  });

  it('never reports a percentile outside the recorded min and max', () => {
    const h = new Histogram();
    h.record(7.3);
    expect([h.percentile(0), h.percentile(50), h.percentile(100)]).toEqual([7.3, 7.3, 7.3]);
    expect(new Histogram().percentile(50)).toBe(0);
  });

  it('merges counts', () => {
    const [a, b] = [new Histogram(), new Histogram()];
    a.record(1);
    b.record(100);
    b.record(0);
    a.merge(b);
    expect([a.count, a.min, a.max]).toEqual([3, 0, 100]);
    expect(a.percentile(50)).toBeCloseTo(1, 1);
  });
});

describe('summary', () => {
  const tallyOf = () => {
    const tally = new Tally();
    for (let i = 0; i < 6; i++) tally.add({ kind: 'answer', status: 200, servedBy: 'rng-a', latencyMs: 1 + i });
    for (let i = 0; i < 3; i++) tally.add({ kind: 'answer', status: 200, servedBy: 'rng-b', latencyMs: 2 });
    tally.add({ kind: 'answer', status: 503, servedBy: undefined, latencyMs: 3 });
    tally.add({ kind: 'failure', reason: 'timeout', latencyMs: 10_000 });
    tally.add({ kind: 'failure', reason: 'reset', latencyMs: 4 });
    return tally;
  };

  it('counts requests, errors by status and by reason, and shares per instance over the answers', () => {
    const s = summarize(tallyOf(), { target: 'http://g/api/v1/rng/8', method: 'GET', rps: 50, connections: 4, elapsedMs: 2_000, notSent: 1 });
    expect(s).toMatchObject({ mode: 'open', requests: 12, reqPerS: 6, errors: 4, notSent: 1, statuses: { 200: 9, 503: 1 }, errorReasons: { timeout: 1, reset: 1 } });
    expect(Object.keys(s.servedBy)).toEqual(['rng-a', 'rng-b', '(none)']);
    expect(s.servedBy['rng-a']).toEqual({ count: 6, share: 0.6 });
    expect(s.servedBy['rng-b']!.share).toBeCloseTo(0.3, 10);
    expect(s.latencyMs.max).toBe(10_000);
  });

  it('prints a table naming every instance and failure', () => {
    const s = summarize(tallyOf(), { target: 'http://g/x', method: 'GET', rps: null, connections: 4, elapsedMs: 1_000 });
    const table = formatTable(s);
    expect(s.mode).toBe('closed');
    expect(table).toMatch(/closed loop, 4 connections/);
    expect(table).toMatch(/rng-a\s+6\s+60\.0 %/);
    expect(table).toMatch(/timeout\s+1/);
    expect(table).toMatch(/503\s+1/);
  });

  it('sorts transport failures into reasons', () => {
    expect(failureReason(Object.assign(new Error(), { code: 'UND_ERR_HEADERS_TIMEOUT' }))).toBe('timeout');
    expect(failureReason(Object.assign(new Error(), { code: 'ECONNRESET' }))).toBe('reset');
    expect(failureReason(Object.assign(new Error(), { code: 'UND_ERR_SOCKET' }))).toBe('reset');
    expect(failureReason(Object.assign(new Error(), { code: 'ECONNREFUSED' }))).toBe('refused');
    expect(failureReason(new TypeError('x'))).toBe('TypeError');
  });

  it('formats latencies for a reader', () => {
    expect([formatMs(0.0551), formatMs(2.345), formatMs(45.67), formatMs(12_345)]).toEqual(['55 µs', '2.35 ms', '45.7 ms', '12.3 s']);
  });
});

describe('command line', () => {
  it('resolves --route against --gateway and reads the load shape', () => {
    const args = parseLoadArgs(['--route', '/api/v1/rng/8?x=1', '--gateway', 'http://10.0.0.1:9000/', '--rps', '250', '-c', '4', '--duration', '500ms', '--sign-in', 'a@b.c:p:w']);
    expect(args).toMatchObject({ origin: 'http://10.0.0.1:9000', path: '/api/v1/rng/8?x=1', rps: 250, connections: 4, durationMs: 500, method: 'GET' });
    expect(args.signIn).toEqual({ email: 'a@b.c', password: 'p:w', signUp: false });
  });

  it('defaults to the local gateway, a closed loop, 16 connections and 10 s', () => {
    const args = parseLoadArgs(['--route', 'health'], { GATEWAY_URL: undefined });
    expect(args).toMatchObject({ origin: 'http://127.0.0.1:8080', path: '/health', rps: undefined, connections: 16, durationMs: 10_000, timeoutMs: 10_000 });
  });

  it('takes a body (inline or @file) as JSON unless a header says otherwise', () => {
    const args = parseLoadArgs(['--url', 'http://h/x', '-m', 'post', '--body', '@b.json'], {}, (p) => `{"file":"${p}"}`);
    expect(args).toMatchObject({ method: 'POST', body: '{"file":"b.json"}', headers: { 'content-type': 'application/json' } });
    const plain = parseLoadArgs(['--url', 'http://h/x', '--body', 'hi', '-H', 'Content-Type: text/plain']);
    expect(plain.headers).toEqual({ 'content-type': 'text/plain' });
  });

  it('refuses what it cannot run, naming the flag', () => {
    const refused = (argv: string[]) => () => parseLoadArgs(argv);
    expect(refused([])).toThrow(UsageError);
    expect(refused(['--url', 'http://h/x', '--route', '/x'])).toThrow(/exactly one of --url and --route/);
    expect(refused(['--url', 'ftp://h/x'])).toThrow(/--url/);
    expect(refused(['--route', '/x', '--rps', '0'])).toThrow(/--rps/);
    expect(refused(['--route', '/x', '-c', '1.5'])).toThrow(/--connections/);
    expect(refused(['--route', '/x', '--sign-in', 'nopassword'])).toThrow(/email:password/);
    expect(refused(['--route', '/x', '--nope'])).toThrow(UsageError);
    expect(() => parseDuration('soon', '--duration')).toThrow(/--duration/);
    expect([parseDuration('2m', 'd'), parseDuration('1.5', 'd'), parseDuration('20ms', 'd')]).toEqual([120_000, 1_500, 20]);
  });
});
