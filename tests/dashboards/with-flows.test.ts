/** The dashboards and the embedded Node-RED on one HTTP port: each keeps its own paths. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDashboardsBuilt } from '../../dashboards/index.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

let tp: TestPlatform;
beforeAll(async () => {
  await ensureDashboardsBuilt();
  tp = await startTestPlatform({ flows: { enabled: true } });
}, 120_000);
afterAll(async () => {
  await tp?.close();
});

describe('dashboards beside Node-RED', () => {
  it('serves the app at / and the flow editor at /flows/', async () => {
    expect(await (await fetch(`${tp.httpUrl}/`)).text()).toContain('<div id="app">');
    const editor = await fetch(`${tp.httpUrl}/flows/`);
    expect(editor.status).toBe(200);
    expect(await editor.text()).not.toContain('<div id="app">');
  });

  it("never answers Node-RED's paths with the app", async () => {
    const response = await fetch(`${tp.httpUrl}/flows-api/no-such-endpoint`);
    expect(await response.text()).not.toContain('<div id="app">');
  });
});
