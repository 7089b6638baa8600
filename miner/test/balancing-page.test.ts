/**
 * The balancing page in a real headless Chromium (as webui-page.test.ts), over a `make dev`-like
 * stack of real processes on the real Consul and Redis: gateway, two rng, hasher, worker and
 * webui, with a steady load through the gateway. The page lists every passing rng instance; a
 * new instance appears with a share of the traffic within 3 s; one stopped with SIGTERM is gone
 * within 3 s with a "left" event; an instance that fails (overloaded: 503) shows its breaker
 * open and an "ejected" event. Leaves a screenshot in test-artifacts/balancing.png.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { IsolatedStack } from '../../test/support/isolated-stack.js';
import { REPO_ROOT } from '../../test/support/processes.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

const ENTRY = {
  gateway: 'gateway/src/main.ts',
  rng: 'miner/src/rng/main.ts',
  hasher: 'miner/src/hasher/main.ts',
  worker: 'miner/src/worker/main.ts',
  webui: 'miner/src/webui/main.ts',
};

/** Rows of a service's panel: instance id → { share, breaker }. */
async function rowsOf(page: Page, service: string) {
  return page.$$eval(`section.service[data-service="${service}"] tr[data-instance-id]`, (rows) =>
    Object.fromEntries(
      rows.map((row) => [row.getAttribute('data-instance-id')!, { share: Number(row.getAttribute('data-share')), breaker: row.getAttribute('data-breaker') }]),
    ),
  );
}

function eventShown(page: Page, kind: string, instance: string) {
  return page.locator(`#events li[data-kind="${kind}"][data-instance="${instance}"]`).count().then((n) => n > 0);
}

describe('balancing page in headless Chromium (real Consul + Redis)', () => {
  let stack: IsolatedStack<keyof typeof ENTRY>;
  let browser: Browser | undefined;
  let loading = false;
  let load: Promise<unknown> | undefined;
  afterEach(async () => {
    loading = false;
    await load;
    await browser?.close();
    await stack?.stopAll();
  });

  it('shows every rng instance, one joining, one leaving and one ejected, live', { timeout: 150_000 }, async () => {
    stack = new IsolatedStack(ENTRY, { RNG_DELAY_MS: '20', HASHER_DELAY_MS: '5', WORKER_FALLBACK_DELAY_MS: '20' });
    const rng = stack.name('rng');
    // One after the other: six Node processes compiling at once can starve a small machine.
    const rngs = await stack.startPassing('rng', 2);
    await stack.startPassing('hasher', 1);
    const gateway = await stack.start('gateway', { RATE_LIMIT_PER_MINUTE: '0' });
    const webui = await stack.start('webui', { PORT: '0' }); // never hold 8000 in a test
    await stack.start('worker');

    // A steady load through the gateway: four clients in a loop.
    loading = true;
    const client = async () => {
      while (loading) await fetch(`${gateway.url}/api/v1/rng/8`).then((r) => r.arrayBuffer()).catch(() => undefined);
    };
    load = Promise.all([client(), client(), client(), client()]);

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${webui.url}/balancing`);

    // Every passing rng instance is listed, each with a share of the traffic.
    const initial = rngs.map((r) => r.serviceId);
    const listed = await stack.waitFor('both rng instances on the page, with traffic', async () => {
      const rows = await rowsOf(page, rng);
      return initial.every((id) => (rows[id]?.share ?? 0) > 0) && rows;
    }, { timeoutMs: 20_000 });
    expect(Object.keys(listed).sort()).toEqual([...initial].sort());
    // Its callers: the gateway and the worker (the worker's lanes may reach rng a moment after the
    // gateway's load does: wait for both to have called it).
    const callers = await stack.waitFor('the gateway and the worker named as rng callers', async () => {
      const text = (await page.textContent(`section.service[data-service="${rng}"] .callers`)) ?? '';
      return text.includes(gateway.serviceId) && new RegExp(`worker${stack.suffix}`).test(text) && text;
    }, { timeoutMs: 10_000 });
    expect(callers).toContain(gateway.serviceId);

    // One more instance: on the page with a share of the traffic within 3 s of passing in Consul.
    const [third] = await stack.startPassing('rng', 1);
    await stack.waitFor('the new instance with a share above 0', async () => ((await rowsOf(page, rng))[third.serviceId]?.share ?? 0) > 0, {
      timeoutMs: 3_000,
    });
    expect(await eventShown(page, 'joined', third.serviceId)).toBe(true);

    // SIGTERM: gone within 3 s, and a "left" event.
    const stopped = third.process.stop('SIGTERM');
    await stack.waitFor('the stopped instance gone, with a left event', async () => {
      const rows = await rowsOf(page, rng);
      return !(third.serviceId in rows) && (await eventShown(page, 'left', third.serviceId));
    }, { timeoutMs: 3_000 });
    expect(await stopped).toEqual({ code: 0, signal: null });

    // An instance that fails while Consul still lists it passing: slow, with room for one waiting
    // request, it answers most calls 503 rng_overloaded, and its callers' breakers eject it.
    const [failing] = await stack.startPassing('rng', 1, { RNG_DELAY_MS: '400', RNG_QUEUE_LIMIT: '1' });
    await stack.waitFor('the failing instance shown with an open breaker and an ejected event', async () => {
      const rows = await rowsOf(page, rng);
      return rows[failing.serviceId]?.breaker === 'open' && (await eventShown(page, 'ejected', failing.serviceId));
    }, { timeoutMs: 20_000 });
    const ejected = await page.textContent(`#events li[data-kind="ejected"][data-instance="${failing.serviceId}"]`);
    expect(ejected).toMatch(/ejected by the breaker of/);

    // A few chart points make the screenshot worth looking at.
    await stack.waitFor('points on the rng chart', async () =>
      Number(await page.getAttribute(`section.service[data-service="${rng}"] .chart`, 'data-points')) >= 5,
    );
    const artifacts = join(REPO_ROOT, 'test-artifacts');
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'balancing.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});
