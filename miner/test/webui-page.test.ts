/**
 * The webui page in a real headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core): the uPlot chart renders, the figures rise as the worker mines, and every rng
 * instance appears in the list. Leaves a screenshot in test-artifacts/webui.png.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../test/support/processes.js';
import { MinerCluster } from './miner-cluster.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

describe('webui page in headless Chromium (real Consul + Redis)', () => {
  let cluster: MinerCluster;
  let browser: Browser | undefined;
  afterEach(async () => {
    await browser?.close();
    await cluster?.close();
  });

  it('charts hashes/s, shows rising figures and lists every rng instance', { timeout: 120_000 }, async () => {
    cluster = new MinerCluster();
    const rngs = await cluster.startPassing('rng', 2);
    await cluster.startPassing('hasher', 1);
    await cluster.start('worker');
    const webui = await cluster.start('webui', { PORT: '0' }); // never hold 8000 in a test
    await cluster.waitServedBy(rngs.map((r) => r.serviceId));

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(webui.url);

    const canvas = await cluster.waitFor('the chart canvas', async () => {
      const box = await page.locator('#chart canvas').first().boundingBox();
      return box !== null && box.width > 0 && box.height > 0 && box;
    });
    expect(canvas.width).toBeGreaterThan(100);

    const figure = async (id: string) => Number((await page.textContent(`#${id}`))?.trim());
    await cluster.waitFor('the first figures', async () => (await figure('hashes')) > 0);
    const hashesBefore = await figure('hashes');
    const coinsBefore = await figure('coins');
    await cluster.waitFor('the hash count on the page to rise', async () => (await figure('hashes')) > hashesBefore, { timeoutMs: 20_000 });
    await cluster.waitFor('the coin count on the page to rise', async () => (await figure('coins')) > coinsBefore, { timeoutMs: 30_000 });
    await cluster.waitFor('a non-zero speed on the page', async () => (await figure('hashes-per-second')) > 0);

    const listed = await cluster.waitFor('every rng instance in the list', async () => {
      const rows = await page.locator('#rng-instances tr[data-instance-id]').all();
      const ids = await Promise.all(rows.map((row) => row.getAttribute('data-instance-id')));
      return rngs.every((r) => ids.includes(r.serviceId)) && ids;
    });
    expect(listed.sort()).toEqual(rngs.map((r) => r.serviceId).sort());
    await cluster.waitFor('the healthy counts', async () => (await page.textContent('#healthy'))?.includes('2 rng · 1 hasher · 1 worker'));

    // The chart gets a point per second; a few of them make the screenshot worth looking at.
    await cluster.waitFor('points on the chart', async () => Number(await page.getAttribute('#chart', 'data-points')) >= 5, { timeoutMs: 20_000 });
    const artifacts = join(REPO_ROOT, 'test-artifacts');
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'webui.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});
