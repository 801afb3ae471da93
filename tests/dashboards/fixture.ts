/**
 * The platform as a class uses it, for the dashboard tests: the demo lab (college, enterprise,
 * admin, instructor, mentor, a class of 40 students in 10 teams with kits bound, a project with
 * tasks) seeded through the domain code, simulated ESP32 kits publishing over MQTT, and helpers to
 * act over HTTP as each person.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import type { DeepPartial, PlatformConfig } from '../../cli/index.ts';
import { seedDemoLab, startDemoSession } from '../../cli/index.ts';
import { ensureDashboardsBuilt } from '../../dashboards/index.ts';
import { parseScenario, Simulation } from '../../firmware-sim/index.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

export const ARTIFACTS = resolve('test-artifacts', 'screenshots');

export interface Account {
  username: string;
  password: string;
}

export interface DashboardLab {
  tp: TestPlatform;
  url: string;
  kitIds: string[];
  accounts: { admin: Account; instructor: Account; mentor: Account; student: Account };
  /** Bearer token of a person (signs in over HTTP). */
  token(account: Account): Promise<string>;
  /** JSON over HTTP as a person; throws with the body on an error status. */
  api<T>(
    account: Account,
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<T>;
  /** Status of a call (for "may not"). */
  status(account: Account, method: string, path: string): Promise<number>;
  classId: string;
  projectId: string;
  close(): Promise<void>;
}

/** Healthy ESP32 kits at 1 Hz: the first teams of the demo class get them. */
function scenario(kits: number) {
  return parseScenario(
    {
      name: 'dashboards-test',
      description: 'ESP32 kits for the dashboard tests',
      kits: Array.from({ length: kits }, (_, i) => ({
        id: `web-${String(i + 1).padStart(2, '0')}`,
        kind: 'esp32',
        profile: 'greenhouse',
        intervalMs: 1000,
        seed: i + 1,
      })),
    },
    'dashboards-test',
  );
}

export async function startDashboardLab(
  options: { kits?: number; simulate?: boolean; platform?: DeepPartial<PlatformConfig> } = {},
): Promise<DashboardLab> {
  await ensureDashboardsBuilt();
  const tp = await startTestPlatform(options.platform);
  const url = tp.httpUrl;
  const spec = scenario(options.kits ?? 2);
  const kitIds = spec.kits.map((kit) => kit.id);
  const secrets: Record<string, string> = {};
  for (const kit of spec.kits) {
    secrets[kit.id] = (
      await tp.platform.registry.addKit({ id: kit.id, kind: 'esp32', name: `实验台 ${kit.id}` })
    ).secret;
  }
  const seeded = await seedDemoLab(tp.platform.labDb, tp.platform.registry, kitIds);
  const find = (username: string): Account => {
    const account = seeded.find((a) => a.username === username);
    if (!account) throw new Error(`the demo seed made no ${username}`);
    return { username, password: account.password };
  };
  const accounts = {
    admin: find('admin'),
    instructor: find('teacher.chen'),
    mentor: find('mentor.liu'),
    student: find('2026010001'),
  };
  let simulation: Simulation | undefined;
  if (options.simulate !== false) {
    simulation = await Simulation.prepare(spec);
    await simulation.start({
      brokerUrl: tp.mqttUrl,
      credentials: (kitId) => ({ username: kitId, password: secrets[kitId] as string }),
    });
  }

  const tokens = new Map<string, string>();
  const token = async (account: Account) => {
    const known = tokens.get(account.username);
    if (known) return known;
    const response = await fetch(`${url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(account),
    });
    if (!response.ok)
      throw new Error(`login of ${account.username}: ${response.status} ${await response.text()}`);
    const { token: issued } = (await response.json()) as { token: string };
    tokens.set(account.username, issued);
    return issued;
  };
  const call = async (
    account: Account,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) =>
    fetch(`${url}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${await token(account)}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const api = async <T>(
    account: Account,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> => {
    const response = await call(account, method, path, body, headers);
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return (text ? JSON.parse(text) : null) as T;
  };
  const classId = (await api<{ items: { id: string }[] }>(accounts.instructor, 'GET', '/classes')).items[0]
    ?.id as string;
  const projectId = (await api<{ items: { id: string }[] }>(accounts.mentor, 'GET', '/projects')).items[0]
    ?.id as string;
  return {
    tp,
    url,
    kitIds,
    accounts,
    token,
    api,
    async status(account, method, path) {
      return (await call(account, method, path)).status;
    },
    classId,
    projectId,
    async close() {
      await simulation?.stop();
      await tp.close();
    },
  };
}

/** The demo's running session, with attempts on the simulated kits (as `iotlab demo` opens it). */
export async function openDemoSession(lab: DashboardLab) {
  return startDemoSession(lab.tp.platform.labDb, lab.kitIds);
}

/**
 * A lab task in the demo project whose first criterion fails for its first 12 s of data and then
 * passes (sampling for 0.2 min), with a mentor share, assigned to the whole class.
 */
export async function assignQuickTask(lab: DashboardLab): Promise<{ taskId: string; assignmentId: string }> {
  const teacher = lab.accounts.instructor;
  const task = await lab.api<{ id: string; version: number }>(teacher, 'POST', '/tasks', {
    projectId: lab.projectId,
    title: '浏览器测试：温度上报',
    requiredSensors: ['temperature', 'humidity'],
    durationMinutes: 30,
    mentorWeight: 20,
    rubric: {
      criteria: [
        {
          id: 'steady',
          title: { 'zh-CN': '持续上报', en: 'Keeps reporting' },
          weight: 60,
          partialCredit: true,
          type: 'sampling',
          params: { sensor: 'temperature', maxIntervalSeconds: 5, minMinutes: 0.2 },
        },
        {
          id: 'plausible',
          title: { 'zh-CN': '数值合理', en: 'Plausible' },
          weight: 40,
          partialCredit: true,
          type: 'range',
          params: { sensor: 'temperature', min: -20, max: 60, minPercent: 90 },
        },
      ],
    },
  });
  await lab.api(teacher, 'POST', `/tasks/${task.id}/publish`, undefined, { 'if-match': `"${task.version}"` });
  const teams = await lab.api<{ items: { id: string }[] }>(
    teacher,
    'GET',
    `/classes/${lab.classId}/teams?limit=200`,
  );
  const now = Date.now();
  const assignment = await lab.api<{ id: string }>(teacher, 'POST', `/classes/${lab.classId}/assignments`, {
    taskId: task.id,
    opensAt: now - 60_000,
    dueAt: now + 86_400_000,
    teamIds: teams.items.map((team) => team.id),
  });
  return { taskId: task.id, assignmentId: assignment.id };
}

export const CHROMIUM = '/usr/bin/chromium';

/** Headless Debian chromium with a fresh profile; flags keep it off the (closed) network. */
export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'iotlab-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1366, height: 900 },
    locale: 'zh-CN',
    acceptDownloads: true,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Signs in through the login form (in a fresh page: sessionStorage is per tab). */
export async function signIn(context: BrowserContext, url: string, account: Account): Promise<Page> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  // What the Content-Security-Policy refused (a script, a style, a connection) is a problem too.
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) problems.push(message.text());
  });
  (page as Page & { problems?: string[] }).problems = problems;
  await page.goto(`${url}/`);
  await page.fill('input[name=username]', account.username);
  await page.fill('input[name=password]', account.password);
  await page.click('form[data-test=login] button[type=submit]');
  await page.waitForSelector('header.top');
  return page;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}
