import { defineConfig } from 'vitest/config';

// Two projects: fast unit tests beside the code (src/**), and integration tests (test/**) that
// run real Consul, Jaeger, Redis and MariaDB. Integration files run one at a time: they share
// those servers' fixed ports, and one of them restarts Consul.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{infra,gateway,auth,messenger,social,miner}/src/**/*.test.ts'],
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
