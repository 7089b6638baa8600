/**
 * Vitest globalSetup for the integration project: `scripts/infra.sh start` brings up MariaDB,
 * Redis, Consul and Jaeger (whatever is not already answering) before the first test file, and
 * the returned teardown stops them again afterwards.
 *
 * infra.sh stops only what infra.sh itself started; on top of that, the teardown stops only the
 * components that were down when this run began, so infrastructure a developer brought up with
 * `make infra-up` (or `make dev`) stays up after `make test`.
 */
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const INFRA = resolve(ROOT, 'scripts/infra.sh');
const COMPONENTS = ['mariadb', 'redis', 'consul', 'jaeger'] as const;

function infra(args: string[], stdio: 'inherit' | 'ignore' = 'inherit'): number {
  const result = spawnSync('bash', [INFRA, ...args], { cwd: ROOT, stdio });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

export default async function setup(): Promise<() => Promise<void>> {
  // `infra.sh status <component>` exits 0 only when the component answers.
  const wasDown = COMPONENTS.filter((component) => infra(['status', component], 'ignore') !== 0);

  if (infra(['start']) !== 0) {
    // Leave nothing behind that this run started before failing.
    if (wasDown.length > 0) infra(['stop', ...wasDown]);
    throw new Error(`scripts/infra.sh start failed; the integration tests need MariaDB, Redis, Consul and Jaeger`);
  }

  return async () => {
    if (wasDown.length === 0) return;
    if (infra(['stop', ...wasDown]) !== 0) {
      throw new Error(`scripts/infra.sh stop ${wasDown.join(' ')} failed`);
    }
  };
}
