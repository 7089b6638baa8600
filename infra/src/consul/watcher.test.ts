/**
 * The watcher's loop, driven by a scripted query step instead of a Consul agent (the Consul call
 * itself is proven against the real agent in infra/test/watcher-blocking.test.ts and
 * consul-acl-tls.test.ts). Fake timers: backoffs and waits elapse without real time.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HealthEntry } from './health-entry.js';
import type { HealthAnswer, HealthQuery, HealthRequest } from './health-query.js';
import { Watcher, type WatcherOptions } from './watcher.js';

interface Call {
  at: number;
  index: number;
  waitMs: number;
  signal: AbortSignal;
}

/** `block`: behave like an idle agent: hold the query for its wait, then answer "no change". */
type Reply = HealthAnswer | Error | 'block';

function entry(id: string): HealthEntry {
  return { Service: { ID: id, Service: 'svc', Address: '10.0.0.1', Port: Number(id.replace(/\D/g, '') || 1) } };
}

function answer(index: string | undefined, ...ids: string[]): HealthAnswer {
  return { index, entries: ids.map(entry) };
}

function refusal(body: string): Error {
  return Object.assign(new Error('forbidden'), { response: { statusCode: 403, body } });
}

/** A query step that plays `replies` in order, then `after` forever; it records every call. */
function scripted(replies: Reply[], after: Reply = 'block') {
  const calls: Call[] = [];
  let last: HealthAnswer = answer('1');
  const query: HealthQuery = async (request: HealthRequest) => {
    calls.push({ at: Date.now(), index: request.index, waitMs: request.waitMs, signal: request.signal });
    request.signal.throwIfAborted();
    const reply = replies.length > 0 ? replies.shift()! : after;
    if (reply instanceof Error) throw reply;
    if (reply !== 'block') {
      last = reply;
      return reply;
    }
    return new Promise<HealthAnswer>((resolve, reject) => {
      const timer = setTimeout(() => resolve({ ...last, index: String(request.index) }), request.waitMs);
      request.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(new Error('aborted'));
      });
    });
  };
  return { query, calls };
}

function capturedLogger() {
  const lines: Array<{ level: number; msg: string; retryInMs?: number }> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

const ids = (watcher: Watcher) => watcher.instances().map((i) => i.id);
const gaps = (calls: Call[]) => calls.slice(1).map((call, i) => call.at - calls[i]!.at);

const running: Watcher[] = [];
function watcher(query: HealthQuery, options: Partial<WatcherOptions> = {}): Watcher {
  const w = new Watcher({ service: 'svc', query, minIntervalMs: 100, backoff: { baseMs: 1_000, maxMs: 4_000 }, ...options });
  running.push(w);
  return w.start();
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((w) => w.stop()));
  vi.useRealTimers();
});

describe('Watcher loop', () => {
  it('treats an answer without a sane X-Consul-Index as an error: keeps the list, backs off, retries with index 0', async () => {
    const script = scripted([answer('10', 'a1', 'b2'), answer(undefined), answer('abc', 'c3'), answer('11', 'a1')]);
    const w = watcher(script.query);
    await vi.advanceTimersByTimeAsync(0);
    expect(ids(w)).toEqual(['a1', 'b2']);
    const syncedAt = w.lastSyncAt;

    await vi.advanceTimersByTimeAsync(100); // the missing index
    expect(script.calls).toHaveLength(2);
    expect(ids(w)).toEqual(['a1', 'b2']);
    expect(w.consecutiveFailures).toBe(1);

    await vi.advanceTimersByTimeAsync(10_000);
    expect(script.calls.length).toBeGreaterThanOrEqual(4);
    const [, insane1, insane2, sane] = script.calls;
    // Backoff, not a spin: equal jitter gives at least half of 1 s, then half of 2 s.
    expect(insane2!.at - insane1!.at).toBeGreaterThanOrEqual(500);
    expect(sane!.at - insane2!.at).toBeGreaterThanOrEqual(1_000);
    // Never echo the insane value back: a plain read (0) fetches the agent's real index.
    expect([insane2!.index, sane!.index]).toEqual([0, 0]);
    expect(script.calls[4]?.index).toBe(11);
    expect(ids(w)).toEqual(['a1']);
    expect(w.consecutiveFailures).toBe(0);
    expect(w.lastSyncAt).toBeGreaterThan(syncedAt);
  });

  it('keeps at least minIntervalMs between queries when Consul answers at once, whatever the index does', async () => {
    let index = 10;
    const flapping = Array.from({ length: 60 }, (_, i) => answer(String(i % 3 === 2 ? index : ++index), 'a1'));
    const script = scripted(flapping);
    watcher(script.query, { minIntervalMs: 100 });
    await vi.advanceTimersByTimeAsync(1_000);
    // 0, 100, ..., 1000 ms: 11 queries at most, not 60 in no time.
    expect(script.calls.length).toBeLessThanOrEqual(11);
    expect(script.calls.length).toBeGreaterThanOrEqual(9);
    expect(Math.min(...gaps(script.calls))).toBeGreaterThanOrEqual(100);
  });

  it('after an outage, distrusts an empty answer for recoveryGraceMs, then believes it', async () => {
    const script = scripted([answer('10', 'a1', 'b2'), new Error('connect ECONNREFUSED'), answer('3')]);
    const w = watcher(script.query, { recoveryGraceMs: 3_000 });
    await vi.advanceTimersByTimeAsync(0);
    const lists: string[][] = [];
    w.subscribe((list) => lists.push(list.map((i) => i.id)));
    await vi.advanceTimersByTimeAsync(2_000); // the failure, its backoff, the restarted agent's empty answer
    expect(script.calls.length).toBeGreaterThanOrEqual(3);
    expect(w.consecutiveFailures).toBe(0);
    expect(ids(w)).toEqual(['a1', 'b2']);
    // The next query waits only for what is left of the grace, so the decision is not 30 s late.
    const graceQuery = script.calls[3]!;
    expect(graceQuery.waitMs).toBeLessThanOrEqual(3_000);
    expect(graceQuery.waitMs).toBeGreaterThan(0);

    await vi.advanceTimersByTimeAsync(3_100);
    expect(ids(w)).toEqual([]);
    expect(lists).toEqual([[]]);
  });

  it('takes the list of an answer whose index went backwards, then reads once with index 0', async () => {
    const script = scripted([answer('100', 'a1'), answer('7', 'b2'), answer('8', 'b2')]);
    const w = watcher(script.query);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(script.calls.map((c) => c.index).slice(0, 4)).toEqual([0, 100, 0, 8]);
    expect(ids(w)).toEqual(['b2']);
    expect(w.consecutiveFailures).toBe(0);
  });

  it('keeps the list through errors, backing off exponentially, and resumes on the next answer', async () => {
    const down = () => new Error('connect ECONNREFUSED');
    const script = scripted([answer('10', 'a1'), down(), down(), down(), answer('12', 'a1', 'b2')]);
    const w = watcher(script.query);
    await vi.advanceTimersByTimeAsync(0);
    const syncedAt = w.lastSyncAt;
    await vi.advanceTimersByTimeAsync(100 + 500); // first failure, and not yet its retry's earliest time
    expect(w.consecutiveFailures).toBe(1);
    expect(ids(w)).toEqual(['a1']);
    expect(w.lastSyncAt).toBe(syncedAt);

    await vi.advanceTimersByTimeAsync(20_000);
    const [, f1, f2, f3, back] = script.calls;
    expect(f2!.at - f1!.at).toBeGreaterThanOrEqual(500);
    expect(f3!.at - f2!.at).toBeGreaterThanOrEqual(1_000);
    expect(back!.at - f3!.at).toBeGreaterThanOrEqual(2_000);
    expect(back!.index).toBe(0);
    expect(ids(w)).toEqual(['a1', 'b2']);
    expect(w.consecutiveFailures).toBe(0);
  });

  it('on an ACL refusal logs one clear line and retries slowly', async () => {
    const { logger, lines } = capturedLogger();
    const denied = () => refusal(`Permission denied: token with AccessorID 'x' lacks permission 'service:read' on "svc"`);
    const script = scripted([denied(), denied(), denied(), answer('5', 'a1')]);
    const w = watcher(script.query, { logger, refusedBackoff: { baseMs: 5_000, maxMs: 60_000 } });
    await vi.advanceTimersByTimeAsync(60_000);
    const refusals = lines.filter((l) => l.msg.startsWith('consul refused'));
    expect(refusals).toHaveLength(3);
    expect(refusals.filter((l) => l.level >= 50).map((l) => l.msg)).toEqual([
      'consul refused to list instances of svc: the anonymous ACL token (CONSUL_HTTP_TOKEN is unset) lacks service:read on svc; keeping the last known instances',
    ]);
    expect(refusals.slice(1).every((l) => l.level === 20)).toBe(true);
    expect(Math.min(...gaps(script.calls.slice(0, 4)))).toBeGreaterThanOrEqual(2_500);
    expect(ids(w)).toEqual(['a1']);
    expect(lines.some((l) => l.msg === 'consul accepts our ACL token for svc again')).toBe(true);
  });

  it('stop() cancels a query in flight and ends the loop', async () => {
    const script = scripted([answer('10', 'a1')]);
    const w = watcher(script.query, { waitSeconds: 300 });
    await vi.advanceTimersByTimeAsync(200);
    expect(script.calls).toHaveLength(2); // parked in a blocking query
    await w.stop();
    expect(script.calls[1]!.signal.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(script.calls).toHaveLength(2);
  });

  it('stop() ends the loop during a backoff', async () => {
    const script = scripted([], new Error('connect ECONNREFUSED'));
    const w = watcher(script.query);
    await vi.advanceTimersByTimeAsync(0);
    expect(script.calls).toHaveLength(1);
    await w.stop(); // no timer advanced: the backoff sleep must end on the abort
    await vi.advanceTimersByTimeAsync(60_000);
    expect(script.calls).toHaveLength(1);
  });

  it('start() after stop() runs a fresh loop that still backs off and can be stopped again', async () => {
    const script = scripted([answer('10', 'a1')], new Error('connect ECONNREFUSED'));
    const w = watcher(script.query);
    await vi.advanceTimersByTimeAsync(0);
    await w.stop();
    const before = script.calls.length;

    w.start();
    await vi.advanceTimersByTimeAsync(1_000);
    const afterRestart = script.calls.slice(before);
    // With a signal that is already aborted every backoff would end at once: a tight loop.
    expect(afterRestart.length).toBeGreaterThanOrEqual(1);
    expect(afterRestart.length).toBeLessThanOrEqual(3);
    expect(afterRestart.every((c) => !c.signal.aborted)).toBe(true);
    expect(afterRestart[0]!.index).toBe(0);
    expect(ids(w)).toEqual(['a1']);

    await w.stop();
    const stoppedAt = script.calls.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(script.calls.length).toBe(stoppedAt);
  });

  it('serves 20 subscribers without a MaxListeners warning, and unsubscribe stops the calls', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const script = scripted([answer('10', 'a1'), answer('11', 'a1', 'b2'), answer('12', 'b2')]);
      const w = new Watcher({ service: 'svc', query: script.query, minIntervalMs: 100 });
      running.push(w);
      const heard = Array.from({ length: 20 }, () => [] as number[]);
      const unsubscribe = heard.map((calls) => w.subscribe((list) => calls.push(list.length)));
      w.start();
      await vi.advanceTimersByTimeAsync(50);
      expect(heard.every((calls) => calls.join() === '1')).toBe(true);

      unsubscribe.slice(10).forEach((off) => off());
      await vi.advanceTimersByTimeAsync(500);
      expect(heard.slice(0, 10).every((calls) => calls.join() === '1,2,1')).toBe(true);
      expect(heard.slice(10).every((calls) => calls.join() === '1')).toBe(true);
      await new Promise((resolve) => process.nextTick(resolve)); // warnings are emitted on the next tick
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('uses answers from a server without a leader, saying so once per leaderless streak', async () => {
    const { logger, lines } = capturedLogger();
    const leaderless = (index: string, ...ids: string[]): HealthAnswer => ({ ...answer(index, ...ids), knownLeader: false, lastContactMs: 12_000 });
    const script = scripted([
      answer('10', 'a1', 'b2'),
      leaderless('11', 'a1', 'b2', 'c3'),
      leaderless('12', 'a1', 'c3'),
      { ...answer('13', 'a1', 'c3'), knownLeader: true, lastContactMs: 0 },
    ]);
    const w = watcher(script.query, { logger });
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(100);
    // A stale answer is the freshest there is during an election: the list follows it.
    expect(ids(w)).toEqual(['a1', 'b2', 'c3']);
    await vi.advanceTimersByTimeAsync(200);
    expect(ids(w)).toEqual(['a1', 'c3']);
    const said = (text: string) => lines.filter((line) => String(line.msg).includes(text));
    expect(said('no leader right now')).toHaveLength(1);
    expect(said('no leader right now')[0]).toMatchObject({ level: 40, knownLeader: false, lastContactMs: 12_000 });
    expect(said('has a leader again')).toHaveLength(1);
    expect(w.consecutiveFailures).toBe(0);
  });

  it('needs a consul client or a query', () => {
    expect(() => new Watcher({ service: 'svc' })).toThrow(/needs a consul client or a query/);
  });
});
