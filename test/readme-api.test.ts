/**
 * The README's "Use the API" walkthrough, run as written (bash, curl, jq) against a private
 * stack: gateway, auth, social and messenger as real processes on the real MariaDB, Redis and Consul. If
 * the README's commands stop working, this fails.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IsolatedStack, type Running } from './support/isolated-stack.js';
import { REPO_ROOT } from './support/processes.js';

const ENTRY = {
  gateway: 'gateway/src/main.ts',
  auth: 'auth/src/main.ts',
  social: 'social/src/main.ts',
  messenger: 'messenger/src/main.ts',
} as const;

function walkthrough(): string {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const block = /<!-- api-walkthrough:start -->\s*```sh\n([\s\S]*?)```\s*<!-- api-walkthrough:end -->/.exec(readme);
  if (!block) throw new Error('README.md has no api-walkthrough block');
  return block[1]!;
}

describe("README's API walkthrough (real processes)", () => {
  const stack = new IsolatedStack(ENTRY, { AUTH_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'), ACCESS_LOG: 'false' });
  let gateway: Running;

  beforeAll(async () => {
    execFileSync(process.execPath, ['--import', 'tsx', 'scripts/migrate.ts'], { cwd: REPO_ROOT, stdio: 'pipe' });
    [gateway] = await Promise.all([
      stack.start('gateway'),
      stack.startPassing('auth', 1),
      stack.startPassing('social', 1),
      stack.startPassing('messenger', 1),
    ]);
  }, 90_000);
  afterAll(() => stack.stopAll());

  it('runs step by step: sign up, sign in, search, befriend, post, read the feed, chat', () => {
    const result = spawnSync('bash', ['-euo', 'pipefail', '-c', walkthrough()], {
      cwd: REPO_ROOT,
      env: { ...process.env, GW: gateway.url },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toContain('"Grace"');
    expect(result.stdout).toMatch(/x-served-by: social-/i);
    expect(result.stdout).toContain('Hello, Ada!');
    // The send and its retry: 201 then 200, each naming a messenger instance; one unread message.
    expect(result.stdout).toMatch(/HTTP\/1\.1 201[\s\S]*x-served-by: messenger-[\s\S]*HTTP\/1\.1 200[\s\S]*x-served-by: messenger-/i);
    expect(result.stdout).toContain('{"unread":1,"last":"Hi Grace!"}');
  });
});
