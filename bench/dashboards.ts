/**
 * Dashboards benchmark: the built bundle's size (raw and gzip), the first load of the app on
 * localhost (cold and warm cache), and an instructor's class board of 40 kits × 4 sensors at 1 Hz
 * left open for `minutes`: frame times (requestAnimationFrame deltas, long tasks) and the JS heap
 * after a forced GC, sampled each 30 s, so growth shows. Headless Debian chromium, the platform as
 * its own process, kits as real MQTT clients.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import mqtt, { type MqttClient } from 'mqtt';
import { chromium, type Page } from 'playwright-core';
import { seedDemoLab } from '../cli/index.ts';
import { DASHBOARDS_DIST, ensureDashboardsBuilt } from '../dashboards/index.ts';
import { freePort, serverAvailable } from '../harness/index.ts';
import { Classes } from '../lab-api/index.ts';
import { KitRegistry, openLabDb } from '../labdb/index.ts';
import { kitTopic } from '../protocol/index.ts';
import { percentile } from './load.ts';
import { startPlatformProcess } from './platform-process.ts';
import { emitResult, sleep } from './report.ts';

export interface DashboardsBenchOptions {
  kits: number;
  minutes: number;
}

function bundleSizes() {
  const assets = join(DASHBOARDS_DIST, 'assets');
  const files = readdirSync(assets).map((name) => {
    const bytes = readFileSync(join(assets, name));
    return { name, bytes: statSync(join(assets, name)).size, gzip: gzipSync(bytes, { level: 9 }).length };
  });
  const js = files.filter((f) => f.name.endsWith('.js'));
  const sum = (list: typeof files, key: 'bytes' | 'gzip') => list.reduce((total, f) => total + f[key], 0);
  return {
    jsKB: Math.round(sum(js, 'bytes') / 1024),
    jsGzipKB: Math.round(sum(js, 'gzip') / 1024),
    cssGzipKB: Math.round(
      sum(
        files.filter((f) => f.name.endsWith('.css')),
        'gzip',
      ) / 1024,
    ),
    chunks: js
      .filter((f) => f.bytes > 1024)
      .map(
        (f) =>
          `${f.name.replace(/-[\w-]{8}\.js$/, '')} ${Math.round(f.bytes / 1024)} KB, gzip ${Math.round(f.gzip / 1024)} KB`,
      ),
  };
}

/** Seeds the demo lab and binds `kits` kits in its class (10 to teams, the rest to students). */
async function seed(dataDir: string, kits: number) {
  const db = openLabDb(join(dataDir, 'lab.sqlite'));
  const registry = new KitRegistry(db);
  const ids = Array.from({ length: kits }, (_, i) => `bench-${String(i + 1).padStart(2, '0')}`);
  const secrets: Record<string, string> = {};
  for (const id of ids)
    secrets[id] = (await registry.addKit({ id, kind: 'esp32', name: `大棚实验台 ${id}` })).secret;
  const accounts = await seedDemoLab(db, registry, ids.slice(0, 10));
  const teacher = await db.get<{ id: string; organisation_id: string | null; display_name: string }>(
    "SELECT id, organisation_id, display_name FROM users WHERE username = 'teacher.chen'",
  );
  const cls = await db.get<{ id: string }>("SELECT id FROM classes WHERE name = '物联网2401'");
  if (!teacher || !cls) throw new Error('demo lab not seeded');
  const instructor = {
    kind: 'user' as const,
    id: teacher.id,
    username: 'teacher.chen',
    role: 'instructor' as const,
    organisationId: teacher.organisation_id,
    displayName: teacher.display_name,
  };
  const students = await db.all<{ user_id: string }>(
    'SELECT user_id FROM class_members WHERE class_id = ? ORDER BY user_id',
    [cls.id],
  );
  const classes = new Classes(db);
  for (const [i, id] of ids.slice(10).entries()) {
    const student = students[i];
    if (student) await classes.kits.setBinding(instructor, id, { studentId: student.user_id });
  }
  await db.close();
  const password = accounts.find((a) => a.username === 'teacher.chen')?.password as string;
  return { ids, secrets, classId: cls.id, teacher: { username: 'teacher.chen', password } };
}

/** Each kit sends 4 sensors once a second (QoS 0, as most ESP32 sketches do). */
async function runKits(url: string, ids: string[], secrets: Record<string, string>) {
  const clients: MqttClient[] = await Promise.all(
    ids.map((id) =>
      mqtt.connectAsync(url, {
        clientId: id,
        username: id,
        password: secrets[id] as string,
        reconnectPeriod: 0,
      }),
    ),
  );
  let seq = 0;
  const timer = setInterval(() => {
    seq++;
    for (const [i, client] of clients.entries()) {
      const phase = seq / 30 + i;
      client.publish(
        kitTopic(ids[i] as string, 'telemetry'),
        JSON.stringify({
          seq,
          readings: {
            temperature: 24 + 3 * Math.sin(phase) + Math.random() * 0.2,
            humidity: 60 + 5 * Math.cos(phase) + Math.random(),
            light: 600 + 200 * Math.sin(phase / 3),
            soil_moisture: 40 + 2 * Math.sin(phase / 5),
          },
        }),
      );
    }
  }, 1000);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(clients.map((client) => client.endAsync()));
    },
  };
}

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-precise-memory-info',
];

/** Frame deltas and long tasks, recorded in the page; `take()` returns and clears them. */
const FRAME_PROBE = `
  window.__frames = []; window.__longTasks = [];
  let last = performance.now();
  const tick = (now) => { window.__frames.push(now - last); last = now; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push(e.duration); })
    .observe({ type: 'longtask', buffered: false });
`;

async function takeFrames(page: Page): Promise<{ frames: number[]; longTasks: number[] }> {
  return page.evaluate(() => {
    const w = window as unknown as { __frames: number[]; __longTasks: number[] };
    const out = { frames: w.__frames, longTasks: w.__longTasks };
    w.__frames = [];
    w.__longTasks = [];
    return out;
  });
}

export async function dashboardsBench(options: DashboardsBenchOptions): Promise<void> {
  if (!serverAvailable('chromium')) {
    emitResult('dashboards', { skipped: 'chromium not installed (apt-get install chromium)' });
    return;
  }
  const started = Date.now();
  await ensureDashboardsBuilt();
  const bundle = bundleSizes();
  const dataDir = mkdtempSync(join(tmpdir(), 'iotlab-bench-dash-'));
  const profile = mkdtempSync(join(tmpdir(), 'iotlab-bench-chromium-'));
  const seeded = await seed(dataDir, options.kits);
  const [httpPort, mqttPort] = [await freePort(), await freePort()];
  const platform = await startPlatformProcess({
    IOTLAB_DATA_DIR: dataDir,
    IOTLAB_HTTP_PORT: String(httpPort),
    IOTLAB_MQTT_PORT: String(mqttPort),
    IOTLAB_LOG_STATUS_INTERVAL_SECONDS: '0',
  });
  const kits = await runKits(platform.mqttUrl, seeded.ids, seeded.secrets);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1920, height: 1080 },
  });
  try {
    // First load: navigation to the sign-in form, with an empty cache, then with a warm one.
    const page = context.pages()[0] ?? (await context.newPage());
    const firstLoad = async () => {
      const t0 = Date.now();
      await page.goto(`${platform.httpUrl}/`, { waitUntil: 'load' });
      await page.waitForSelector('form[data-test=login]');
      const wall = Date.now() - t0;
      const nav = await page.evaluate(() => {
        const entry = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
        const paint = performance.getEntriesByName('first-contentful-paint')[0];
        return {
          domContentLoadedMs: Math.round(entry.domContentLoadedEventEnd),
          loadMs: Math.round(entry.loadEventEnd),
          firstContentfulPaintMs: paint ? Math.round(paint.startTime) : null,
          transferKB: Math.round(
            (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).reduce(
              (sum, r) => sum + r.transferSize,
              entry.transferSize,
            ) / 1024,
          ),
        };
      });
      return { ...nav, loginFormVisibleMs: wall };
    };
    const cold = await firstLoad();
    const warm = await firstLoad();

    // The class board, signed in as the instructor.
    const login = (await (
      await fetch(`${platform.httpUrl}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(seeded.teacher),
      })
    ).json()) as Record<string, unknown>;
    await page.evaluate(
      (session) => sessionStorage.setItem('iotlab.session', JSON.stringify(session)),
      login,
    );
    const boardStart = Date.now();
    await page.goto(`${platform.httpUrl}/#/instructor/class/${seeded.classId}`);
    await page.reload(); // a hash change alone keeps the page (and its signed-out state)
    await page
      .locator('[data-test=board] article')
      .nth(options.kits - 1)
      .waitFor({ timeout: 60_000 });
    await page
      .locator('[data-test=board] [data-online=true]')
      .nth(options.kits - 1)
      .waitFor({ timeout: 60_000 });
    const boardReadyMs = Date.now() - boardStart;
    const cdp = await context.newCDPSession(page);
    await cdp.send('HeapProfiler.enable');
    const heapMB = async () => {
      await cdp.send('HeapProfiler.collectGarbage');
      const { usedSize } = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
      return Math.round((usedSize / 1048576) * 10) / 10;
    };
    await page.evaluate(FRAME_PROBE);
    const samples: {
      minute: number;
      heapMB: number;
      frameP50: number;
      frameP99: number;
      longTasks: number;
    }[] = [];
    const allFrames: number[] = [];
    let longTasks = 0;
    const until = Date.now() + options.minutes * 60_000;
    const sampleEvery = Math.min(30_000, (options.minutes * 60_000) / 4);
    while (Date.now() < until) {
      await sleep(Math.min(sampleEvery, until - Date.now()));
      const { frames, longTasks: tasks } = await takeFrames(page);
      const sorted = [...frames].sort((a, b) => a - b);
      allFrames.push(...frames);
      longTasks += tasks.length;
      samples.push({
        minute: Math.round(((Date.now() - boardStart) / 60_000) * 10) / 10,
        heapMB: await heapMB(),
        frameP50: Math.round(percentile(sorted, 50) * 10) / 10,
        frameP99: Math.round(percentile(sorted, 99) * 10) / 10,
        longTasks: tasks.length,
      });
    }
    const sorted = allFrames.sort((a, b) => a - b);
    const first = samples[0]?.heapMB ?? 0;
    const last = samples[samples.length - 1]?.heapMB ?? 0;
    const readings = await page.evaluate(
      () => document.querySelectorAll('[data-test=board] [data-online=true]').length,
    );
    emitResult('dashboards', {
      bundle,
      firstLoadCold: cold,
      firstLoadWarm: warm,
      board: {
        kits: options.kits,
        sensorsPerKit: 4,
        rateHz: 1,
        minutes: options.minutes,
        readyMs: boardReadyMs,
        kitsOnlineAtEnd: readings,
        frames: allFrames.length,
        frameMsP50: Math.round(percentile(sorted, 50) * 10) / 10,
        frameMsP95: Math.round(percentile(sorted, 95) * 10) / 10,
        frameMsP99: Math.round(percentile(sorted, 99) * 10) / 10,
        frameMsMax: Math.round((sorted[sorted.length - 1] ?? 0) * 10) / 10,
        framesOver50ms: sorted.filter((f) => f > 50).length,
        longTasks,
        heapMBAfterGcFirst: first,
        heapMBAfterGcLast: last,
        heapGrowthMB: Math.round((last - first) * 10) / 10,
        samples,
      },
      platform: platform.usage(),
      seconds: Math.round((Date.now() - started) / 1000),
    });
  } finally {
    await context.close();
    await kits.stop();
    await platform.stop();
    rmSync(profile, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
}
