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

// Two projects: fast unit tests beside the code (src/**), and integration tests (test/**) that
// run real Consul, Jaeger, Redis and MariaDB. Integration files run one at a time: they share
// those servers' fixed ports, and one of them restarts Consul.
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
          include: ['{infra,gateway,auth,messenger,social,miner}/test/**/*.test.ts', 'test/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
