#!/usr/bin/env node
// `npm run build` (and `npm install`, through `prepare`): the server compiled by tsc into build/,
// the files it reads at run time copied beside it, and the dashboards built by Vite into
// build/dashboards/dist. `npm start` and `iotlab` run build/; tests run the TypeScript sources.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'build');
const require = createRequire(import.meta.url);

/** What the compiled code reads at run time, next to where its module sits. */
const ASSETS = ['labdb/migrations', 'flows/curriculum', 'flows/runtime-child.cjs', 'firmware-sim/scenarios'];

function run(what, args, env = {}) {
  const started = Date.now();
  const result = spawnSync(process.execPath, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  if (result.status !== 0) {
    console.error(`build: ${what} failed`);
    process.exit(result.status ?? 1);
  }
  console.log(`build: ${what} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
run('server (tsc)', [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json']);
for (const asset of ASSETS) {
  if (existsSync(join(root, asset))) cpSync(join(root, asset), join(out, asset), { recursive: true });
}
run(
  'dashboards (vite)',
  [
    join(dirname(require.resolve('vite/package.json')), 'bin', 'vite.js'),
    'build',
    '--config',
    'dashboards/vite.config.ts',
  ],
  { IOTLAB_DASHBOARDS_OUT_DIR: join(out, 'dashboards', 'dist') },
);
// Marks a complete build: bin/iotlab.js refuses a half-written one.
writeFileSync(join(out, 'BUILT'), `${new Date().toISOString()}\n`);
