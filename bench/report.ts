import { availableParallelism } from 'node:os';

/** One JSON line per benchmark run. */
export function emitResult(bench: string, result: Record<string, unknown>): void {
  console.log(JSON.stringify({ bench, cores: availableParallelism(), ...result }));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * With IOTLAB_BENCH_CPU_PROFILE=<file>, profiles this process's CPU (V8 inspector) from now until
 * the returned function is called, and writes the profile there (open it in Chrome DevTools):
 * a benchmark profiles only its measured phase.
 */
export async function profileCpu(): Promise<() => Promise<void>> {
  const file = process.env.IOTLAB_BENCH_CPU_PROFILE;
  if (!file) return async () => {};
  const { Session } = await import('node:inspector/promises');
  const { writeFile } = await import('node:fs/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    await writeFile(file, JSON.stringify(profile));
    session.disconnect();
  };
}
