import { Worker } from 'node:worker_threads';

/**
 * Starts a TypeScript module in a worker thread. The platform runs its sources through tsx, and
 * a worker does not inherit the loader, so a small bootstrap registers it first.
 */
export function startTsWorker(module: URL, workerData: unknown): Worker {
  const bootstrap = `
    import { workerData } from 'node:worker_threads';
    const { register } = await import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))});
    register();
    await import(workerData.module);
  `;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`), {
    workerData: { ...(workerData as object), module: module.href },
  });
}
