// Container build step, after `tsc -p tsconfig.build.json` (which mirrors the tree under dist/):
// gives every workspace package its compiled output at <package>/dist and points the package's
// exports there, so `@switchyard/infra` resolves to JavaScript at run time. Assets beside the
// sources (the docs page's CSS and script) are copied too; scripts/migrate.js lands in scripts/.
// Run from the workspace root: node scripts/docker/dist-layout.mjs
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

// It rewrites package.json files in place: only ever inside the image build (the Dockerfile sets this).
if (process.env.SWITCHYARD_IMAGE_BUILD !== '1') {
  console.error('[dist-layout] refusing to run outside the Docker build: it rewrites every package.json (SWITCHYARD_IMAGE_BUILD=1 is set there)');
  process.exit(2);
}
const root = process.cwd();
const compiled = path.join(root, 'dist');
const { workspaces = [] } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

/** `./src/index.ts` → `./dist/index.js`; anything else is left as it is. */
const toDist = (target) => (typeof target === 'string' ? target.replace(/^\.\/src\/(.*)\.ts$/, './dist/$1.js') : target);

function mapExports(value) {
  if (typeof value === 'string') return toDist(value);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapExports(v)]));
  return value;
}

/** Non-TypeScript files under src/ (CSS, browser scripts) go beside the compiled modules. */
function copyAssets(from, to) {
  for (const entry of readdirSync(from)) {
    const source = path.join(from, entry);
    if (statSync(source).isDirectory()) copyAssets(source, path.join(to, entry));
    else if (!entry.endsWith('.ts')) cpSync(source, path.join(to, entry));
  }
}

for (const workspace of workspaces) {
  const out = path.join(compiled, workspace, 'src');
  if (!existsSync(out)) throw new Error(`${workspace}: no compiled output at ${out}; did tsc -p tsconfig.build.json run?`);
  const dist = path.join(root, workspace, 'dist');
  rmSync(dist, { recursive: true, force: true });
  cpSync(out, dist, { recursive: true });
  copyAssets(path.join(root, workspace, 'src'), dist);
  const manifestPath = path.join(root, workspace, 'package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  if (manifest.exports) manifest.exports = mapExports(manifest.exports);
  if (manifest.main) manifest.main = toDist(manifest.main);
  // The npm scripts start through tsx, which the runtime image does not have.
  delete manifest.scripts;
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`[dist-layout] ${workspace}/dist ready${manifest.exports ? `, exports → ${JSON.stringify(manifest.exports)}` : ''}`);
}
cpSync(path.join(compiled, 'scripts', 'migrate.js'), path.join(root, 'scripts', 'migrate.js'));
cpSync(path.join(compiled, 'scripts', 'migrate.js.map'), path.join(root, 'scripts', 'migrate.js.map'));
console.log('[dist-layout] scripts/migrate.js ready');
