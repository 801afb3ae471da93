import { defineConfig } from 'vitest/config';
import { inCI, missingMessage, serverAvailable } from './harness/index.ts';

/**
 * The suites whose code reads or writes the lab database: they run once on the embedded SQLite
 * file (project `sqlite`, with everything else) and once more on PostgreSQL (project `postgres`,
 * IOTLAB_TEST_LAB_DB=postgres: tests/helpers/lab.ts and platform.ts give each lab a fresh database
 * on one server the project's global setup starts).
 */
const LAB_DB_SUITES = [
  'tests/labdb/**/*.test.ts',
  'tests/lab-api/**/*.test.ts',
  'tests/grading/live.test.ts',
];

// Without PostgreSQL a developer's run leaves the second pass out (and says so); CI keeps it, and
// its global setup fails the run.
const postgres = serverAvailable('postgres') || inCI();
if (!postgres) console.warn(`[tests] skipping the lab suites on PostgreSQL: ${missingMessage('postgres')}`);

export default defineConfig({
  test: {
    // Suites start real servers (influxd, victoria-metrics, the broker) on free ports; two cores, so keep it modest.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'sqlite', include: ['tests/**/*.test.ts'] } },
      ...(postgres
        ? [
            {
              extends: true as const,
              test: {
                name: 'postgres',
                include: LAB_DB_SUITES,
                env: { IOTLAB_TEST_LAB_DB: 'postgres' },
                globalSetup: ['tests/helpers/postgres-setup.ts'],
              },
            },
          ]
        : []),
    ],
  },
});
