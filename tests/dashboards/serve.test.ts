/** The built dashboards on the platform's HTTP port: the app at `/`, its routes on reload, the platform's own paths untouched. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDashboardsBuilt } from '../../dashboards/index.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

let tp: TestPlatform;
beforeAll(async () => {
  await ensureDashboardsBuilt();
  tp = await startTestPlatform();
}, 120_000);
afterAll(async () => {
  await tp?.close();
});

describe('serving the dashboards', () => {
  it('serves the app at / and for any app path (a reload keeps working)', async () => {
    for (const path of ['/', '/student', '/instructor/class/abc']) {
      const response = await fetch(`${tp.httpUrl}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/text\/html/);
      const html = await response.text();
      expect(html).toContain('<div id="app">');
      expect(html).toMatch(/src="\/assets\/index-[\w-]+\.js"/);
    }
  });

  it('serves the hashed assets, cached for good', async () => {
    const html = await (await fetch(`${tp.httpUrl}/`)).text();
    const script = /src="(\/assets\/index-[\w-]+\.js)"/.exec(html)?.[1] as string;
    const response = await fetch(`${tp.httpUrl}${script}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/javascript/);
    expect(response.headers.get('cache-control')).toMatch(/immutable/);
  });

  it('leaves /api, /docs, /flows and /health to the platform', async () => {
    const api = await fetch(`${tp.httpUrl}/api/v1/no-such-route`);
    expect(api.status).toBe(404);
    expect(api.headers.get('content-type')).toMatch(/json/);
    expect((await fetch(`${tp.httpUrl}/api/v1/kits`)).status).toBe(401);
    expect((await fetch(`${tp.httpUrl}/docs/json`)).status).toBe(200);
    expect((await fetch(`${tp.httpUrl}/health`)).headers.get('content-type')).toMatch(/json/);
    const flows = await fetch(`${tp.httpUrl}/flows/`);
    expect(flows.status).toBe(404);
    expect(flows.headers.get('content-type')).not.toMatch(/html/);
  });

  it('sends the security headers: a strict CSP for the app, no sniffing and no framing anywhere', async () => {
    const app = await fetch(`${tp.httpUrl}/student`);
    const csp = app.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    for (const path of ['/', '/api/v1/kits', '/health', '/docs/json', '/no-such-file.js']) {
      const response = await fetch(`${tp.httpUrl}${path}`);
      expect(response.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(response.headers.get('x-frame-options'), path).toBe('DENY');
      expect(response.headers.get('referrer-policy'), path).toBe('same-origin');
    }
  });

  it('refuses paths that climb out of the build', async () => {
    const response = await fetch(`${tp.httpUrl}/assets/..%2f..%2fpackage.json`);
    expect(await response.text()).not.toContain('"name": "iotlab"');
  });
});
