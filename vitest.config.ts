import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * Integration files named `zz-*` disrupt shared infrastructure (one stops and restarts Consul):
 * they run after every other file. Vitest otherwise orders files by cached duration.
 */
class DisruptiveFilesLast extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const disruptive = (file: TestSpecification) => /\/zz-[^/]*$/.test(file.moduleId);
    return [...sorted.filter((f) => !disruptive(f)), ...sorted.filter(disruptive)];
  }
}

/**
 * The chaos scenarios that fit in `make test` (CI): the rest run with `make chaos` only (a Consul
 * cluster, database outages, a slow instance: minutes each).
 */
const CHAOS_IN_CI = ['kill-messenger', 'sigterm-each', 'cluster-client-agent', 'hostile-input', 'supervisor-gone', 'zz-consul-restart'];

const integrationProject = {
  environment: 'node' as const,
  globalSetup: ['test/global-setup.ts'],
  fileParallelism: false,
  testTimeout: 60_000,
  hookTimeout: 60_000,
};

// Three projects: fast unit tests beside the code (src/**); integration tests (test/**) that
// run real Consul, Jaeger, Redis and MariaDB; and the chaos suite (test/chaos, `make chaos`).
// Integration and chaos files run one at a time: they share those servers' fixed ports, and
// some of them restart Consul or stop a database. So the two never run in one vitest command
// (it would run the projects side by side): `npm test` names unit and integration, `npm run
// chaos` names chaos.
export default defineConfig({
  test: {
    sequence: { sequencer: DisruptiveFilesLast },
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{infra,gateway,auth,messenger,social,miner}/src/**/*.test.ts', 'scripts/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: [
            '{infra,gateway,auth,messenger,social,miner}/test/**/*.test.ts',
            'test/*.test.ts',
            ...CHAOS_IN_CI.map((name) => `test/chaos/${name}.test.ts`),
          ],
          ...integrationProject,
        },
      },
      {
        test: {
          name: 'chaos',
          include: ['test/chaos/**/*.test.ts'],
          ...integrationProject,
          testTimeout: 300_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
