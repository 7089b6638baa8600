import { describe, expect, it } from 'vitest';
import { TrafficWindow, buildPanels } from './panels.js';
import { counted, view } from './test-views.js';

const noSockets = { liveSockets: new Map<string, number>(), socketServices: new Set<string>() };

describe('TrafficWindow', () => {
  it('gives rates per second from two samples of a caller', () => {
    const window = new TrafficWindow(5_000);
    window.add(view('gw', 0, { rng: [counted('a', 100)] }));
    expect(window.rates().size).toBe(0); // one sample: no rate yet
    window.add(view('gw', 2, { rng: [counted('a', 140)] }));
    expect(window.rates().get('rng')!.get('a')!.requests).toBe(20);
  });

  it('sums several callers, each over its own span', () => {
    const window = new TrafficWindow(5_000);
    window.add(view('gw', 0, { rng: [counted('a', 0)] }));
    window.add(view('gw', 1, { rng: [counted('a', 10)] }));
    window.add(view('wk', 0, { rng: [counted('a', 0)] }));
    window.add(view('wk', 2, { rng: [counted('a', 60)] }));
    expect(window.rates().get('rng')!.get('a')!.requests).toBe(40); // 10/s + 30/s
  });

  it('starts a caller over when it restarted: no negative rate', () => {
    const window = new TrafficWindow(5_000);
    window.add(view('gw', 0, { rng: [counted('a', 1_000)] }));
    window.add(view('gw', 1, { rng: [counted('a', 1_010)] }));
    window.add(view('gw', 2, { rng: [counted('a', 3)] }, { startedAt: 2 }));
    expect(window.rates().size).toBe(0);
    window.add(view('gw', 3, { rng: [counted('a', 13)] }, { startedAt: 2 }));
    expect(window.rates().get('rng')!.get('a')!.requests).toBe(10);
  });

  it('measures over the window and forgets callers no longer polled', () => {
    const window = new TrafficWindow(2_000);
    for (let s = 0; s <= 4; s++) window.add(view('gw', s, { rng: [counted('a', s < 2 ? s * 10 : 20 + (s - 2) * 50)] }));
    expect(window.rates().get('rng')!.get('a')!.requests).toBe(50);
    window.retain([]);
    expect(window.rates().size).toBe(0);
  });
});

describe('buildPanels', () => {
  it('lists every service, its passing instances with shares, worst breaker and in-flight summed over callers', () => {
    const window = new TrafficWindow(5_000);
    const gw0 = view('gw', 0, { rng: [counted('a', 0), counted('b', 0)] });
    const wk0 = view('wk', 0, { rng: [counted('a', 0)] });
    const gw1 = view('gw', 1, { rng: [counted('a', 10, { inFlight: 1 }), counted('b', 10, { breaker: 'open', errors: 4 })] });
    const wk1 = view('wk', 1, { rng: [counted('a', 20, { inFlight: 2 })] });
    [gw0, wk0, gw1, wk1].forEach((v) => window.add(v));

    const panels = buildPanels({
      consul: new Map([['rng', ['a', 'b']], ['gateway', ['gw']], ['worker', ['wk']]]),
      views: [gw1, wk1],
      rates: window.rates(),
      ...noSockets,
    });
    expect(panels.map((p) => p.service)).toEqual(['gateway', 'rng', 'worker']);
    const rng = panels.find((p) => p.service === 'rng')!;
    expect(rng.callers).toEqual(['gw', 'wk']);
    expect(rng.requestsPerSecond).toBe(44);
    const [a, b] = rng.instances;
    expect(a).toMatchObject({ id: 'a', passing: true, requestsPerSecond: 30, breaker: 'closed', inFlight: 3, seenBy: ['gw', 'wk'], liveSockets: null });
    expect(a!.share).toBeCloseTo(30 / 44);
    expect(b).toMatchObject({ id: 'b', requestsPerSecond: 14, errorsPerSecond: 4, breaker: 'open', ejectedBy: ['gw'], seenBy: ['gw'] });
    expect(a!.p50Ms).toBeGreaterThan(0);
    expect(panels.find((p) => p.service === 'gateway')!.instances[0]).toMatchObject({ id: 'gw', requestsPerSecond: 0, p50Ms: null });
  });

  it('shows an instance a caller still lists after Consul dropped it as not passing, and drops one nobody lists', () => {
    const gw = view('gw', 1, { rng: [counted('a', 1), counted('leaving', 1), { ...counted('gone', 1), passing: false }] });
    const [rng] = buildPanels({ consul: new Map([['rng', ['a']]]), views: [gw], rates: new Map(), ...noSockets });
    expect(rng!.instances.map((i) => [i.id, i.passing])).toEqual([['a', true], ['leaving', false]]);
  });

  it('gives live sockets per instance for the services that serve them', () => {
    const panels = buildPanels({
      consul: new Map([['messenger', ['m1', 'm2']]]),
      views: [],
      rates: new Map(),
      liveSockets: new Map([['m1', 3]]),
      socketServices: new Set(['messenger']),
    });
    expect(panels[0]!.instances.map((i) => i.liveSockets)).toEqual([3, 0]);
  });
});
