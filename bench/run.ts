/**
 * Runs the benchmarks named on the command line (default: all), each in its own process, after
 * making sure MariaDB, Redis and Consul are up. Usage: npm run bench [-- propagation client-overhead ...]
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('..', import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !['run.ts', 'report.ts'].includes(f))
  .map((f) => f.replace(/\.ts$/, ''));
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !available.includes(w));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}
const infra = spawnSync('bash', ['scripts/infra.sh', 'start', 'mariadb', 'redis', 'consul'], { cwd: root, stdio: 'inherit' });
if (infra.status !== 0) process.exit(infra.status ?? 1);
let failed = 0;
for (const name of wanted.length ? wanted : available) {
  console.log(`\n== bench ${name}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', `bench/${name}.ts`], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) failed += 1;
}
process.exit(failed ? 1 : 0);
