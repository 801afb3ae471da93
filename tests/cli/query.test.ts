/**
 * `iotlab query <kit> <sensor>` as a person types it: a typo in the kit or the sensor is explained
 * (exit code 2, as for other usage errors), never answered with an empty screen.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbeddedStore } from '../../telemetry/index.ts';

const run = promisify(execFile);
const dataDir = mkdtempSync(join(tmpdir(), 'iotlab-query-'));
const iotlab = (...args: string[]) =>
  run(process.execPath, ['bin/iotlab-dev.js', ...args], {
    env: { ...process.env, IOTLAB_DATA_DIR: dataDir, IOTLAB_STORE_INFLUX_URL: '' },
  });

beforeAll(async () => {
  await iotlab('kits', 'add', 'demo-01');
  await iotlab('kits', 'add', 'silent-02'); // registered, never sent anything
  const store = createEmbeddedStore({ path: join(dataDir, 'telemetry.sqlite'), retentionDays: 30 });
  const now = Date.now();
  await store.write([
    { kitId: 'demo-01', ts: now - 60_000, readings: { temperature: 24.5, humidity: 61, soil_moisture: 40 } },
    { kitId: 'demo-01', ts: now - 30_000, readings: { temperature: 24.7, humidity: 60, soil_moisture: 41 } },
  ]);
  await store.close();
}, 60_000);
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('iotlab query', () => {
  it("prints a kit's readings of a sensor", async () => {
    const { stdout } = await iotlab('query', 'demo-01', 'temperature');
    expect(stdout).toMatch(/T[\d:.]+Z {2}24\.5\n.*T[\d:.]+Z {2}24\.7/);
  });

  it('says the kit is unknown and exits 2', async () => {
    await expect(iotlab('query', 'nosuchkit', 'temperature')).rejects.toMatchObject({
      code: 2,
      stdout: '',
      stderr: expect.stringContaining('no kit "nosuchkit"'),
    });
    await expect(iotlab('query', 'Demo-01', 'temperature')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('kit ids are lower case: did you mean "demo-01"?'),
    });
  });

  it("names the kit's sensors when the sensor is unknown, with a hint for capitals, and exits 2", async () => {
    const wrongCase = iotlab('query', 'demo-01', 'Temperature');
    await expect(wrongCase).rejects.toMatchObject({ code: 2, stdout: '' });
    const { stderr } = (await wrongCase.catch((error) => error)) as { stderr: string };
    expect(stderr).toContain('demo-01 has no sensor "Temperature"');
    expect(stderr).toContain('humidity, soil_moisture, temperature');
    expect(stderr).toContain('did you mean "temperature"');

    await expect(iotlab('query', 'demo-01', 'pressure')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(
        /demo-01 has no sensor "pressure".*humidity, soil_moisture, temperature/s,
      ),
    });
  });

  it('tells a kit that has sent nothing yet apart from a typo', async () => {
    await expect(iotlab('query', 'silent-02', 'temperature')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('silent-02 has not sent any readings yet'),
    });
  });

  it('says so when a known sensor has no readings in the window, and exits 0', async () => {
    const { stdout, stderr } = await iotlab(
      'query',
      'demo-01',
      'temperature',
      '--from',
      '2000-01-01T00:00:00Z',
      '--to',
      '2000-01-02T00:00:00Z',
    );
    expect(stdout).toBe('');
    expect(stderr).toContain(
      'no temperature readings from demo-01 between 2000-01-01T00:00:00.000Z and 2000-01-02T00:00:00.000Z',
    );
  });
});
