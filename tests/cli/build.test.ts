/**
 * The platform as installed runs compiled JavaScript (`npm run build`, which `npm install` runs
 * through `prepare`): it starts, serves the API and the dashboards from build/, stops on SIGTERM,
 * and writes nothing into the package while it runs. In CI the build must be there (`npm ci`
 * made it); on a developer's machine without one the suite says so and skips.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inCI } from '../../harness/index.ts';

const BUILT = existsSync('build/BUILT');

/** Every file under a folder with its size and modification time. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (path: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) walk(full);
      else {
        const stat = statSync(full);
        files[full] = `${stat.size}:${stat.mtimeMs}`;
      }
    }
  };
  walk(dir);
  return files;
}

const suite = BUILT || inCI() ? describe : describe.skip;
if (!BUILT && !inCI()) console.warn('[tests] skipping the compiled build: run `npm run build` first');

suite('the compiled platform', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'iotlab-build-'));
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts from build/, serves the API and the web app, stops on SIGTERM, and writes nothing into the package', async () => {
    expect(BUILT, 'build/BUILT is missing: `npm ci` (prepare) or `npm run build` makes it').toBe(true);
    const before = { build: snapshot('build'), dashboards: existsSync('dashboards/dist') };
    child = spawn(process.execPath, ['bin/iotlab.js', 'start'], {
      env: {
        ...process.env,
        IOTLAB_DATA_DIR: dataDir,
        IOTLAB_HTTP_HOST: '127.0.0.1',
        IOTLAB_HTTP_PORT: '0',
        IOTLAB_MQTT_HOST: '127.0.0.1',
        IOTLAB_MQTT_PORT: '0',
        IOTLAB_LOG_JSON: 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start in 60 s:\n${output}`)), 60_000);
      const look = () => {
        const http = /"http":(\d+)/.exec(output)?.[1];
        if (http) {
          clearTimeout(timer);
          resolve(Number(http));
        } else setTimeout(look, 50);
      };
      look();
    });
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(await page.text()).toContain('<div id="app">');
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(snapshot('build')).toEqual(before.build);
    expect(existsSync('dashboards/dist')).toBe(before.dashboards);
  }, 90_000);
});
