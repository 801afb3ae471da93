/**
 * Global setup of the `postgres` test project (vitest.config.ts): one throwaway PostgreSQL for the
 * whole run, its URL handed to the tests (`inject('labPostgresUrl')`), stopped (by pid, its folder
 * removed) when the run ends. Without PostgreSQL the project is left out on a developer's machine;
 * in CI it is kept, and this setup fails the run.
 */
import type { TestProject } from 'vitest/node';
import { inCI, missingMessage, serverAvailable, startPostgres } from '../../harness/index.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (!serverAvailable('postgres')) {
    throw new Error(
      `${missingMessage('postgres')}${inCI() ? '; in CI a missing server is a failure, not a skip' : ''}`,
    );
  }
  const server = await startPostgres();
  project.provide('labPostgresUrl', server.url);
  return () => server.stop();
}
