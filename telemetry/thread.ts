import { Worker } from 'node:worker_threads';

/**
 * Starts a module of the platform in a worker thread: compiled JavaScript as it is; a TypeScript
 * source (tests, `npm run dev`) through tsx, which a worker does not inherit from its parent, so a
 * small bootstrap registers it first.
 */
export function startModuleWorker(module: URL, workerData: unknown): Worker {
  if (!module.pathname.endsWith('.ts')) return new Worker(module, { workerData });
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

/** A module beside `base` (its `import.meta.url`), in the same form: `.ts` for sources, `.js` compiled. */
export function sibling(name: string, base: string): URL {
  return new URL(`./${name}${base.endsWith('.ts') ? '.ts' : '.js'}`, base);
}
