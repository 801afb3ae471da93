import { readdirSync, readFileSync } from 'node:fs';
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
 * a benchmark profiles only its measured phase. With IOTLAB_BENCH_HEAP_PROFILE=<file>, samples
 * where memory is allocated instead (a .heapprofile, also for DevTools); with
 * IOTLAB_BENCH_HEAP_PROFILE_SURVIVORS=1 only what outlived a young-generation collection (what
 * gets promoted, and makes the old generation's collections).
 */
export async function profileCpu(): Promise<() => Promise<void>> {
  const cpuFile = process.env.IOTLAB_BENCH_CPU_PROFILE;
  const heapFile = process.env.IOTLAB_BENCH_HEAP_PROFILE;
  if (!cpuFile && !heapFile) return async () => {};
  const { Session } = await import('node:inspector/promises');
  const { writeFile } = await import('node:fs/promises');
  const session = new Session();
  session.connect();
  if (cpuFile) {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  if (heapFile) {
    await session.post('HeapProfiler.enable');
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 16_384,
      // Everything allocated (or what survived the young generation), not only what is alive at the end.
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: process.env.IOTLAB_BENCH_HEAP_PROFILE_SURVIVORS !== '1',
    });
  }
  return async () => {
    if (cpuFile) {
      const { profile } = await session.post('Profiler.stop');
      await writeFile(cpuFile, JSON.stringify(profile));
    }
    if (heapFile) {
      const { profile } = await session.post('HeapProfiler.stopSampling');
      await writeFile(heapFile, JSON.stringify(profile));
    }
    session.disconnect();
  };
}

/**
 * Garbage collection pauses on the main thread while it runs: milliseconds per kind (scavenge,
 * mark-sweep, incremental marking, weak callbacks). Work V8 does on its helper threads shows
 * only in the process's CPU time.
 */
export async function watchGc(): Promise<() => Record<string, number>> {
  const { PerformanceObserver, constants } = await import('node:perf_hooks');
  const names: Record<number, string> = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavengeMs',
    [constants.NODE_PERFORMANCE_GC_MAJOR]: 'markSweepMs',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incrementalMs',
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakCallbacksMs',
  };
  const totals: Record<string, number> = {};
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = names[(entry as unknown as { detail: { kind: number } }).detail.kind] ?? 'otherMs';
      totals[kind] = (totals[kind] ?? 0) + entry.duration;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => {
    observer.disconnect();
    return Object.fromEntries(Object.entries(totals).map(([kind, ms]) => [kind, Math.round(ms)]));
  };
}

/**
 * CPU seconds so far of the process's main thread and of its other threads (V8's garbage
 * collector and compiler helpers, libuv's pool), from /proc on Linux; undefined elsewhere.
 */
export function threadCpuSeconds(): { main: number; others: number } | undefined {
  try {
    let main = 0;
    let others = 0;
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const seconds = (Number(fields[11]) + Number(fields[12])) / 100;
      if (Number(tid) === process.pid) main += seconds;
      else others += seconds;
    }
    return { main, others };
  } catch {
    return undefined;
  }
}
