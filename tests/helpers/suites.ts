/**
 * Vitest helpers for suites that need a real server (kept apart from harness/, which the
 * benchmarks import too: a benchmark process should not load the test runner).
 */
import { describe, it } from 'vitest';
import { inCI, missingMessage, type ServerBinary, serverAvailable } from '../../harness/index.ts';

/**
 * `describe` for a suite that needs a real server. When the binary is missing, the suite is skipped
 * on a developer's machine (its title says which Debian package to install) and fails in CI.
 */
export function describeWithServer(binary: ServerBinary, title: string, fn: () => void): void {
  if (serverAvailable(binary)) {
    describe(title, fn);
    return;
  }
  if (inCI()) {
    describe(title, () => {
      it(`needs ${binary}`, () => {
        throw new Error(`${missingMessage(binary)}; in CI a missing server is a failure, not a skip`);
      });
    });
    return;
  }
  console.warn(`[tests] skipping "${title}": ${missingMessage(binary)}`);
  describe.skip(`${title} (skipped: ${missingMessage(binary)})`, fn);
}
