import { availableParallelism } from 'node:os';

/** One JSON line per benchmark run. */
export function emitResult(bench: string, result: Record<string, unknown>): void {
  console.log(JSON.stringify({ bench, cores: availableParallelism(), ...result }));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
