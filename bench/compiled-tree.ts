/**
 * The services as the container runs them, for benches to measure beside `make dev`'s tsx path:
 * the TypeScript compiled by the image's tsconfig.build.json, and the environment of the image's
 * runtime stage read from the Dockerfile itself.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The environment the image runs its services with: every `ENV` of the Dockerfile's last stage
 * (NODE_OPTIONS with its node and V8 flags, glibc malloc's tuning, NODE_ENV), so a bench
 * measures those very lines. One `KEY=value` or `KEY="value"` pair or more per line.
 */
export function imageEnv(): Record<string, string> {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const env: Record<string, string> = {};
  for (const [, pairs] of runtime.matchAll(/^ENV (.*)$/gm)) {
    for (const [, name, value] of pairs!.matchAll(/(\w+)=("[^"]*"|\S*)/g)) env[name!] = value!.replace(/^"(.*)"$/, '$1');
  }
  return env;
}

/**
 * tsc with the image's config into `out`/dist (the repository's tree mirrored: `out`/dist/gateway/src/main.js),
 * then `out`/node_modules/@switchyard/* packages whose exports point at that output: the image's
 * dist-layout step, without rewriting the repository's package.json files. Third-party packages
 * resolve from the repository's node_modules, above `out`.
 */
export function compileTree(out: string): void {
  rmSync(out, { recursive: true, force: true });
  const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--outDir', join(out, 'dist')], { cwd: ROOT, stdio: 'inherit' });
  if (tsc.status !== 0) throw new Error('tsc -p tsconfig.build.json failed');
  cpSync(join(ROOT, 'gateway/src/docs'), join(out, 'dist/gateway/src/docs'), { recursive: true, filter: (f) => !f.endsWith('.ts') });
  symlinkSync(join(ROOT, 'miner/public'), join(out, 'dist/miner/public'));
  const { workspaces } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] };
  for (const workspace of workspaces) {
    const manifest = JSON.parse(readFileSync(join(ROOT, workspace, 'package.json'), 'utf8')) as { name: string; exports?: unknown };
    const dir = join(out, 'node_modules', manifest.name);
    mkdirSync(dir, { recursive: true });
    symlinkSync(join(out, 'dist', workspace, 'src'), join(dir, 'dist'));
    const toDist = (value: unknown): unknown =>
      typeof value === 'string'
        ? value.replace(/^\.\/src\/(.*)\.ts$/, './dist/$1.js')
        : value && typeof value === 'object'
          ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toDist(v)]))
          : value;
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: manifest.name, type: 'module', exports: toDist(manifest.exports) }));
  }
}
