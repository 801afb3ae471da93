// biome-ignore-all lint/performance/useDomNodeTextContent: Playwright locators, not DOM nodes; innerText() is the text a person sees, textContent() is not
/**
 * The editor as a person meets it: headless Chromium opens /flows/, signs in with a lab account
 * in Node-RED's login dialog, and sees the curriculum flows — or is turned away.
 */
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureDashboardsBuilt } from '../../dashboards/index.ts';
import { findBinary } from '../../harness/index.ts';
import { People } from '../../lab-api/index.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { describeWithServer } from '../helpers/suites.ts';

const PASSWORD = 'correct-horse-battery';

/** The bits of Node-RED's editor API (window.RED) a test uses. */
interface RedEditor {
  nodes: { eachWorkspace(visit: (ws: { id: string; label: string }) => void): void };
  workspaces: { show(id: string): void };
}
const chromiumPath = findBinary('chromium');

describeWithServer('chromium', 'the flow editor in a browser', () => {
  let lab: TestPlatform;
  let browser: Browser;

  beforeAll(async () => {
    await ensureDashboardsBuilt();
    lab = await startTestPlatform({ flows: { enabled: true, studentAccess: 'none' } });
    const people = new People(lab.platform.labDb);
    for (const [username, role] of [
      ['teacher', 'instructor'],
      ['pupil', 'student'],
    ] as const) {
      await people.createUser(
        { kind: 'service', name: 'test-setup' },
        {
          username,
          displayName: username,
          role,
          password: PASSWORD,
          organisationId: null,
          studentNumber: role === 'student' ? '2026990002' : null,
        },
      );
    }
    await lab.platform.flows?.deployCurriculum(undefined, [
      { id: 'browser-tab', type: 'tab', label: 'Browser check' },
      {
        id: 'browser-tick',
        type: 'inject',
        z: 'browser-tab',
        repeat: '1',
        once: true,
        onceDelay: 0.1,
        props: [{ p: 'payload' }],
        payload: 'hello from the flows',
        payloadType: 'str',
        wires: [['browser-debug']],
      },
      {
        id: 'browser-debug',
        type: 'debug',
        z: 'browser-tab',
        active: true,
        tosidebar: true,
        console: false,
        complete: 'payload',
        targetType: 'msg',
        wires: [],
      },
    ]);
    browser = await chromium.launch({
      executablePath: chromiumPath as string,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await lab?.close();
  });

  async function signIn(username: string): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(`${lab.httpUrl}/flows/`);
    await page.locator('#node-dialog-login-fields input#node-dialog-login-username').fill(username);
    await page.locator('#node-dialog-login-fields input#node-dialog-login-password').fill(PASSWORD);
    await page.locator('#node-dialog-login-submit').click();
    return page;
  }

  it('shows an instructor the curriculum flows after signing in with the lab password', async () => {
    const page = await signIn('teacher');
    try {
      await expect
        .poll(async () => page.locator('#red-ui-workspace-tabs').innerText(), { timeout: 30_000 })
        .toContain('Threshold alarm');
      const tabs = await page.locator('#red-ui-workspace-tabs').innerText();
      expect(tabs).toContain('Kit health');
      expect(tabs).toContain('Browser check');
    } finally {
      await page.close();
    }
  }, 60_000);

  it("gets the flows' debug messages live, over the editor's WebSocket", async () => {
    const page = await signIn('teacher');
    try {
      await expect
        .poll(async () => page.locator('.red-ui-debug-msg').allInnerTexts(), { timeout: 30_000 })
        .toEqual(expect.arrayContaining([expect.stringContaining('hello from the flows')]));
    } finally {
      await page.close();
    }
  }, 60_000);

  it('opens from the dashboards signed in: no second sign-in, no 401, no token in the URL', async () => {
    const page = await browser.newPage();
    try {
      const refused: string[] = [];
      page.on('response', (response) => {
        if (response.status() === 401) refused.push(response.url());
      });
      await page.goto(`${lab.httpUrl}/`);
      await page.fill('input[name=username]', 'teacher');
      await page.fill('input[name=password]', PASSWORD);
      await page.click('form[data-test=login] button[type=submit]');
      await page.locator('[data-test=open-flows]', { hasText: '流程编辑器' }).click();
      await page.waitForURL(/\/flows\/$/);
      await expect
        .poll(async () => page.locator('#red-ui-workspace-tabs').innerText(), { timeout: 30_000 })
        .toContain('Threshold alarm');
      expect(await page.locator('#node-dialog-login-fields').isVisible()).toBe(false);
      expect(page.url()).not.toContain('token');
      expect(refused).toEqual([]);
    } finally {
      await page.close();
    }
  }, 60_000);

  it('lays out every curriculum flow readably: no node over another, none off the canvas', async () => {
    const page = await signIn('teacher');
    try {
      await expect
        .poll(async () => page.locator('#red-ui-workspace-tabs').innerText(), { timeout: 30_000 })
        .toContain('Kit health');
      const problems: string[] = [];
      for (const name of ['Threshold alarm', 'Closed loop', 'Data cleaning', 'Kit health']) {
        // The tab bar may scroll: show the tab through the editor itself.
        await page.evaluate((label) => {
          const red = (window as unknown as { RED: RedEditor }).RED;
          let id = '';
          red.nodes.eachWorkspace((ws) => {
            if (ws.label.startsWith(label)) id = ws.id;
          });
          red.workspaces.show(id);
        }, name);
        await page.locator('#red-ui-workspace-chart g.red-ui-flow-node').first().waitFor();
        const boxes = await page.$$eval('#red-ui-workspace-chart g.red-ui-flow-node', (nodes) =>
          nodes.map((node) => {
            const box = (node as SVGGraphicsElement).getBBox();
            const transform = node.getAttribute('transform') ?? '';
            const [, x, y] = /translate\(\s*([-\d.]+)[ ,]+([-\d.]+)/.exec(transform) ?? [];
            return { x: Number(x) + box.x, y: Number(y) + box.y, w: box.width, h: box.height };
          }),
        );
        for (const [i, a] of boxes.entries()) {
          if (a.x < 0 || a.y < 0) problems.push(`${name}: a node off the canvas at ${a.x},${a.y}`);
          for (const b of boxes.slice(i + 1)) {
            const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
            if (overlap) problems.push(`${name}: nodes overlap at ${a.x},${a.y} and ${b.x},${b.y}`);
          }
        }
      }
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  }, 90_000);

  it('turns away a student when students have no access', async () => {
    const page = await signIn('pupil');
    try {
      await expect
        .poll(async () => page.locator('#node-dialog-login-failed').isVisible(), { timeout: 30_000 })
        .toBe(true);
      expect(await page.locator('#red-ui-workspace-tabs').count()).toBe(0);
    } finally {
      await page.close();
    }
  }, 60_000);
});
