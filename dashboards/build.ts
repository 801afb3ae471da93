/**
 * Builds the dashboards with Vite when `dashboards/dist` is missing or older than its sources, so
 * `npm run demo`, `npm start` and the browser tests work on a fresh clone. Run directly
 * (`node bin/run-ts.js dashboards/build.ts [--force]`) it builds when stale and says so.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const DASHBOARDS_DIR = dirname(fileURLToPath(import.meta.url));
export const DASHBOARDS_DIST = join(DASHBOARDS_DIR, 'dist');
const SOURCES = ['src', 'index.html', 'vite.config.ts'];

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** True when there is no build, or a source changed after it. */
export function dashboardsStale(dist = DASHBOARDS_DIST): boolean {
  const index = join(dist, 'index.html');
  if (!existsSync(index)) return true;
  const built = statSync(index).mtimeMs;
  return SOURCES.some((source) => newestMtime(join(DASHBOARDS_DIR, source)) > built);
}

function viteBin(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('vite/package.json')), 'bin', 'vite.js');
}

let building: Promise<void> | undefined;

/**
 * Builds into a temporary directory and swaps it in, so a platform serving the old build never
 * sees half a new one. Concurrent callers in one process share the build; another process holding
 * the lock (a directory) is waited for.
 */
export function buildDashboards(): Promise<void> {
  building ??= (async () => {
    const lock = join(DASHBOARDS_DIR, '.build-lock');
    const deadline = Date.now() + 120_000;
    for (;;) {
      try {
        mkdirSync(lock);
        break;
      } catch {
        // Another process builds: wait for it (or take over a lock left by a killed one).
        const age = existsSync(lock) ? Date.now() - statSync(lock).mtimeMs : 0;
        if (age > 120_000) rmSync(lock, { recursive: true, force: true });
        if (Date.now() > deadline) throw new Error(`dashboards: ${lock} is held by another build`);
        await new Promise((done) => setTimeout(done, 250));
        if (!dashboardsStale()) return;
      }
    }
    try {
      const out = join(DASHBOARDS_DIR, `.dist-${process.pid}`);
      await new Promise<void>((done, fail) => {
        const child = spawn(
          process.execPath,
          [viteBin(), 'build', '--config', join(DASHBOARDS_DIR, 'vite.config.ts')],
          {
            cwd: resolve(DASHBOARDS_DIR, '..'),
            env: { ...process.env, IOTLAB_DASHBOARDS_OUT_DIR: out },
            stdio: ['ignore', 'inherit', 'inherit'],
          },
        );
        child.once('error', fail);
        child.once('exit', (code) =>
          code === 0 ? done() : fail(new Error(`dashboards: vite build exited with ${code}`)),
        );
      });
      rmSync(DASHBOARDS_DIST, { recursive: true, force: true });
      renameSync(out, DASHBOARDS_DIST);
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  })().finally(() => {
    building = undefined;
  });
  return building;
}

/** Builds when stale; resolves true when it built. */
export async function ensureDashboardsBuilt(options: { force?: boolean } = {}): Promise<boolean> {
  if (!options.force && !dashboardsStale()) return false;
  await buildDashboards();
  return true;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const started = Date.now();
  ensureDashboardsBuilt({ force: process.argv.includes('--force') }).then(
    (built) => {
      if (built) console.log(`dashboards built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    },
    (error: Error) => {
      console.error(error.message);
      process.exit(1);
    },
  );
}
