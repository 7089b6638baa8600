/**
 * What browsers get from the gateway (real gateway processes): CORS only for the configured
 * origins, security headers on every answer, the OpenAPI document of the whole route table, and
 * the interactive docs page rendering in a real headless Chromium (Debian's /usr/bin/chromium,
 * driven by playwright-core) from the gateway's own files alone. Leaves a screenshot in
 * test-artifacts/api-docs.png.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../test/support/processes.js';
import { openApiPath } from '../src/openapi.js';
import { gatewayRoutes } from '../src/routes/index.js';
import { PrivateStack, get, json, send, type Running } from './upstreams.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

const APP = 'http://app.example.test';
const OTHER_APP = 'http://localhost:5173';
const EVIL = 'http://evil.example.test';

describe('the gateway for browsers (real processes)', () => {
  const stack = new PrivateStack();
  /** CORS_ORIGINS set. */
  let withCors: Running;
  /** CORS_ORIGINS unset: the default. */
  let plain: Running;
  let browser: Browser | undefined;

  beforeAll(async () => {
    [withCors, plain] = await Promise.all([stack.start('gateway', { CORS_ORIGINS: `${APP},${OTHER_APP}` }), stack.start('gateway')]);
  });
  afterAll(async () => {
    await browser?.close();
    await stack.stopAll();
  });

  const preflight = (gateway: Running, origin: string) =>
    send(gateway.port, '/api/v1/auth/sign-in', {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
    });

  describe('CORS', () => {
    it('answers a preflight from an allowed origin with that origin, the method and the headers', async () => {
      for (const origin of [APP, OTHER_APP]) {
        const answer = await preflight(withCors, origin);
        expect(answer.status, origin).toBe(204);
        expect(answer.headers.get('access-control-allow-origin')).toBe(origin);
        expect(answer.headers.get('access-control-allow-methods')).toContain('POST');
        expect(answer.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
        expect(answer.headers.get('access-control-allow-credentials')).toBeNull();
        expect(answer.headers.get('vary')?.toLowerCase()).toContain('origin');
      }
    });

    it('gives an allowed origin the headers it may read on a real call, refusals included', async () => {
      const answer = await get(withCors.port, '/api/v1/auth/me', { origin: APP });
      expect(answer.status).toBe(401);
      expect(answer.headers.get('access-control-allow-origin')).toBe(APP);
      expect(answer.headers.get('access-control-expose-headers')).toContain('x-served-by');
    });

    it('says nothing to any other origin, nor to anyone when no origin is configured', async () => {
      for (const [gateway, origin] of [
        [withCors, EVIL],
        [withCors, `${APP}.evil.test`],
        [withCors, 'null'],
        [plain, APP],
      ] as const) {
        const check = await preflight(gateway, origin);
        expect(check.headers.get('access-control-allow-origin'), origin).toBeNull();
        expect(check.headers.get('access-control-allow-methods'), origin).toBeNull();
        const call = await get(gateway.port, '/api/openapi.json', { origin });
        expect(call.headers.get('access-control-allow-origin'), origin).toBeNull();
      }
    });
  });

  it('sends security headers on every answer: the data policy on data (proxied, refused, the OpenAPI document), the document policy on the docs page', async () => {
    for (const path of ['/api/v1/auth/me', '/api/v1/nope', '/api/openapi.json']) {
      const answer = await get(plain.port, path);
      expect(answer.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(answer.headers.get('x-frame-options'), path).toBe('DENY');
      expect(answer.headers.get('cross-origin-resource-policy'), path).toBe('same-origin');
      expect(answer.headers.get('strict-transport-security'), path).toContain('max-age=');
      // Opened as a page, a data answer may load and run nothing, nor be framed.
      expect(answer.headers.get('content-security-policy'), path).toBe("default-src 'none'; frame-ancestors 'none'");
      // Document-only headers stay off data.
      expect(answer.headers.get('cross-origin-opener-policy'), path).toBeNull();
      expect(answer.headers.get('x-gateway'), path).toBe(plain.serviceId);
    }
    for (const path of ['/api/docs', '/api/docs/init.js']) {
      const answer = await get(plain.port, path);
      expect(answer.status, path).toBe(200);
      expect(answer.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(answer.headers.get('x-frame-options'), path).toBe('SAMEORIGIN');
      expect(answer.headers.get('cross-origin-opener-policy'), path).toBe('same-origin');
      expect(answer.headers.get('referrer-policy'), path).toBe('no-referrer');
      const csp = answer.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).not.toContain('upgrade-insecure-requests');
      expect(answer.headers.get('x-gateway'), path).toBe(plain.serviceId);
    }
  });

  it('serves an OpenAPI 3.1 document holding every route of the table', async () => {
    const answer = await get(plain.port, '/api/openapi.json');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    const document = json(answer) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(document.openapi).toBe('3.1.0');
    for (const route of gatewayRoutes) {
      expect(document.paths[openApiPath(route.path)]?.[route.method.toLowerCase()], `${route.method} ${route.path}`).toBeDefined();
    }
  });

  it('renders the docs page in Chromium from the gateway alone: every operation listed, no error, no other origin', { timeout: 90_000 }, async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const problems: string[] = [];
    const elsewhere: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('request', (request) => {
      if (!request.url().startsWith(plain.url) && !request.url().startsWith('data:')) elsewhere.push(request.url());
    });
    await page.goto(`${plain.url}/api/docs`);

    const expected = gatewayRoutes.length;
    const listed = await stack.waitFor(
      'every operation on the page',
      async () => {
        const count = await page.locator('.opblock').count();
        return count >= expected && count;
      },
      { timeoutMs: 30_000 },
    );
    expect(listed).toBe(expected);
    await expect(page.locator('.opblock-summary-path[data-path="/api/v1/auth/sign-up"]').count()).resolves.toBe(1);
    expect(await page.locator('.info .title').innerText()).toContain('switchyard API');
    // The bearer scheme is offered (the "Authorize" button) for the signed-in routes.
    await expect(page.locator('.btn.authorize').count()).resolves.toBeGreaterThan(0);

    const artifacts = join(REPO_ROOT, 'test-artifacts');
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'api-docs.png'), fullPage: true });
    expect(problems).toEqual([]);
    expect(elsewhere).toEqual([]);
  });
});
