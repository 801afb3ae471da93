// biome-ignore-all lint/performance/useDomNodeTextContent: Playwright locators, not DOM nodes; innerText() is the text a person sees, textContent() is not
/**
 * Every role's journey in headless Chromium (Debian `chromium`, driven by playwright-core) against
 * the running platform with simulated ESP32 kits. Assertions are what a person would notice; every
 * wait is for an outcome (with a timeout), never for a time. Screenshots go to
 * test-artifacts/screenshots/.
 */
import { readFileSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it, onTestFailed, vi } from 'vitest';
import { connect } from '../helpers/platform.ts';
import { describeWithServer } from '../helpers/suites.ts';
import {
  assignQuickTask,
  type DashboardLab,
  launchBrowser,
  screenshot,
  signIn,
  startDashboardLab,
} from './fixture.ts';

const WAIT = { timeout: 45_000 };

// Journeys wait for live data (a criterion needs 12 s of it): more room than the 30 s default.
vi.setConfig({ testTimeout: 120_000 });

describeWithServer('chromium', 'dashboards in the browser', () => {
  let lab: DashboardLab;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let context: BrowserContext;
  let quick: { taskId: string; assignmentId: string };
  let sessionId: string;
  let studentPage: Page;

  beforeAll(async () => {
    lab = await startDashboardLab({ kits: 2 });
    quick = await assignQuickTask(lab);
    sessionId = (
      await lab.api<{ id: string }>(lab.accounts.instructor, 'POST', `/classes/${lab.classId}/sessions`, {
        assignmentId: quick.assignmentId,
      })
    ).id;
    browser = await launchBrowser();
    context = browser.context;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await lab?.close();
  });

  it('opens on the sign-in page, in Chinese', async () => {
    const page = await context.newPage();
    await page.goto(`${lab.url}/`);
    await page.locator('form[data-test=login]').getByText('登录').first().waitFor(WAIT);
    await screenshot(page, 'login');
    // A wrong password is said in Chinese, without the server's code or English.
    await page.fill('input[name=username]', lab.accounts.student.username);
    await page.fill('input[name=password]', 'not-the-password');
    await page.click('form[data-test=login] button[type=submit]');
    const alert = page.locator('[role=alert]');
    await alert.getByText('用户名或密码错误').waitFor(WAIT);
    expect(await alert.innerText()).not.toMatch(/BAD_LOGIN|wrong/);
    await page.close();
  });

  it('a student signs in (zh-CN by default) and sees their kit go live with readings arriving', async () => {
    studentPage = await signIn(context, lab.url, lab.accounts.student);
    const page = studentPage;
    await page.waitForURL(/#\/student$/);
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    await page.getByText('我的套件').waitFor(WAIT);
    const kit = page.locator(`[data-test=kit-${lab.kitIds[0]}]`);
    await kit.locator('[data-test=kit-state]', { hasText: '在线' }).waitFor(WAIT);
    await page.locator('[data-test=live-state].online').waitFor(WAIT);
    // Live readings: the temperature shown changes as messages arrive (1 Hz, with noise).
    const latest = kit.locator('[data-test=latest]');
    await latest.getByText('温度').waitFor(WAIT);
    const first = await latest.innerText();
    await page.waitForFunction(
      ([selector, before]) => document.querySelector(selector as string)?.textContent !== before,
      [`[data-test=kit-${lab.kitIds[0]}] [data-test=latest]`, first.replace(/\n/g, '')],
      WAIT,
    );
    // A chart per sensor, drawn by ECharts on a canvas, gaining points as readings arrive.
    await kit.locator(`[data-test=chart-${lab.kitIds[0]}-temperature] canvas`).first().waitFor(WAIT);
    const points = () =>
      page.evaluate(
        (selector) => Number(document.querySelector<HTMLElement>(selector)?.dataset.points ?? 0),
        `[data-test=chart-${lab.kitIds[0]}-temperature]`,
      );
    await page.waitForFunction(
      (selector) => Number(document.querySelector<HTMLElement>(selector)?.dataset.points ?? 0) > 0,
      `[data-test=chart-${lab.kitIds[0]}-temperature]`,
      WAIT,
    );
    const before = await points();
    await page.waitForFunction(
      ([selector, n]) =>
        Number(document.querySelector<HTMLElement>(selector as string)?.dataset.points ?? 0) > (n as number),
      [`[data-test=chart-${lab.kitIds[0]}-temperature]`, before] as const,
      WAIT,
    );
    // Only the student's own kit is listed.
    expect(await page.locator(`[data-test=kit-${lab.kitIds[1]}]`).count()).toBe(0);
    // A message with a badly named sensor: the platform's error report shows up on the page.
    const service = await lab.tp.addService('browser-test');
    const client = await connect(lab.tp.mqttUrl, { username: service.username, password: service.secret });
    await client.publishAsync(
      `iotlab/v1/kits/${lab.kitIds[0]}/telemetry`,
      JSON.stringify({ readings: { soilMoisture: 40 } }),
    );
    await client.endAsync();
    await kit.locator('[data-test=kit-errors]', { hasText: 'BAD_SENSOR_NAME' }).waitFor(WAIT);
    // The code is kept (the protocol document's key), the explanation is in Chinese.
    expect(
      await kit.locator('[data-test=kit-errors] li', { hasText: 'BAD_SENSOR_NAME' }).first().innerText(),
    ).toMatch(/传感器名称不规范/);
    await screenshot(page, 'student-kits-live');
  });

  it('a student starts an attempt and watches a rubric criterion turn green', async () => {
    const page = studentPage;
    // A second kit of the student's own: they say which kit the attempt is on.
    const spare = await lab.tp.platform.registry.addKit({ id: 'spare-kit', kind: 'esp32', name: '备用工位' });
    const me = await lab.api<{ id: string }>(lab.accounts.student, 'GET', '/me');
    await lab.api(lab.accounts.admin, 'PUT', '/kits/spare-kit/binding', {
      studentId: me.id,
      classId: lab.classId,
    });
    await page.reload();
    // The spare kit had no data when the page opened: its first reading comes with its unit.
    await page.locator('[data-test=kit-spare-kit]').waitFor(WAIT);
    const spareKit = await connect(lab.tp.mqttUrl, { username: 'spare-kit', password: spare.secret });
    // The page subscribes once it has drawn the kit: send until a reading is seen (a kit sends
    // every few seconds anyway), so no reading is lost to the subscription still on its way.
    const reading = page.locator('[data-test=kit-spare-kit]').getByText('21.5 °C').first();
    for (let tries = 0; tries < 30 && !(await reading.isVisible()); tries++) {
      await spareKit.publishAsync(
        'iotlab/v1/kits/spare-kit/telemetry',
        JSON.stringify({ readings: { temperature: 21.5 } }),
        { qos: 1 },
      );
      await page.waitForTimeout(500);
    }
    await reading.waitFor(WAIT);
    await spareKit.endAsync();
    const assignment = page.locator(`[data-test=assignment-${quick.assignmentId}]`);
    await assignment.locator('[data-test=kit-choice]').selectOption(lab.kitIds[0] as string);
    await assignment.getByRole('button', { name: '开始作答' }).click();
    await assignment
      .getByText(new RegExp(`${lab.kitIds[0]}`))
      .first()
      .waitFor(WAIT);
    const criterion = assignment.locator('[data-test=criterion-steady]');
    // Right after the start there is not enough data to judge reporting for 0.2 min: waiting, not
    // red or green, saying what for, and no points yet.
    await criterion.and(page.locator('[data-state=pending]')).waitFor(WAIT);
    await criterion.locator('[data-test=criterion-pending]', { hasText: '等待中' }).waitFor(WAIT);
    expect(await criterion.innerText()).toMatch(/需要|还没有/);
    await screenshot(page, 'student-checklist-pending');
    // …and turns green once 12 s of steady data have arrived.
    await criterion.and(page.locator('[data-passed=true]')).waitFor({ timeout: 60_000 });
    expect(await criterion.locator('.mark').innerText()).toBe('✔');
    await screenshot(page, 'student-checklist-green');
    // Ending the attempt asks first; "取消" keeps it running.
    await assignment.getByRole('button', { name: '结束作答' }).click();
    await assignment
      .locator('[data-test=confirm]')
      .getByText(/^结束这次作答？/)
      .waitFor(WAIT);
    await assignment.locator('[data-test=confirm]').getByRole('button', { name: '取消' }).click();
    await assignment.getByRole('button', { name: '结束作答' }).waitFor(WAIT);
  });

  it('a student cannot reach instructor pages, in the UI or through the API', async () => {
    const page = studentPage;
    await page.goto(`${lab.url}/#/instructor/class/${lab.classId}`);
    await page.locator('[data-test=forbidden]').waitFor(WAIT);
    expect(await page.locator('[data-test=board]').count()).toBe(0);
    await screenshot(page, 'student-forbidden');
    // The API refuses the same with the student's own token, from their browser.
    const statuses = await page.evaluate(async (classId) => {
      const token = (JSON.parse(sessionStorage.getItem('iotlab.session') ?? '{}') as { token?: string })
        .token;
      const headers = { authorization: `Bearer ${token}` };
      return Promise.all(
        [
          `/api/v1/dashboard/classes/${classId}/board`,
          '/api/v1/classes',
          `/api/v1/classes/${classId}/students`,
        ].map(async (path) => (await fetch(path, { headers })).status),
      );
    }, lab.classId);
    expect(statuses).toEqual([403, 403, 403]);
    await page.goto(`${lab.url}/#/student`);
  });

  it('switches the language to English and back', async () => {
    const page = studentPage;
    await page.locator('[data-test=lang]').first().click();
    await page.getByText('My kits').waitFor(WAIT);
    await page.getByRole('button', { name: 'Sign out' }).waitFor(WAIT);
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    await page
      .locator(`[data-test=kit-${lab.kitIds[0]}] [data-test=latest]`)
      .getByText('Temperature')
      .waitFor(WAIT);
    // Badges read as labels: "Open", not "open" (innerText shows what CSS renders).
    const badge = await page
      .locator(`[data-test=assignment-${quick.assignmentId}] .badge`)
      .first()
      .innerText();
    expect(badge).toMatch(/^[A-Z]/);
    await screenshot(page, 'student-english');
    await page.locator('[data-test=lang]').first().click();
    await page.getByText('我的套件').waitFor(WAIT);
  });

  it('is readable on a phone: one column, nothing wider than the screen', async () => {
    const phone = await signIn(context, lab.url, lab.accounts.student);
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.locator(`[data-test=kit-${lab.kitIds[0]}] [data-test=kit-state]`).waitFor(WAIT);
    await phone.locator(`[data-test=chart-${lab.kitIds[0]}-temperature] canvas`).first().waitFor(WAIT);
    await phone
      .locator(`[data-test=chart-${lab.kitIds[0]}-temperature]:not([data-points="0"])[data-points]`)
      .waitFor(WAIT);
    // Reports sent before the page opened are there too.
    await phone.locator('[data-test=kit-errors]', { hasText: 'BAD_SENSOR_NAME' }).waitFor(WAIT);
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(1);
    await screenshot(phone, 'student-phone');
    await phone.close();
  });

  let teacher: Page;

  it("an instructor sees the class board live: every kit's status, readings and the running attempt's score", async () => {
    teacher = await signIn(context, lab.url, lab.accounts.instructor);
    onTestFailed(() => screenshot(teacher, 'failed-class-board'));
    await teacher.waitForURL(/#\/instructor$/);
    await screenshot(teacher, 'instructor-classes');
    await teacher.goto(`${lab.url}/#/instructor/class/${lab.classId}`);
    const board = teacher.locator('[data-test=board]');
    // The ten teams' kits, and the spare kit bound to a student of the class.
    await board.locator('article').nth(10).waitFor(WAIT);
    expect(await board.locator('article').count()).toBe(11);
    await board.locator('[data-test=board-kit-spare-kit]').waitFor(WAIT);
    const live = board.locator(`[data-test=board-kit-${lab.kitIds[0]}]`);
    await live.and(teacher.locator('[data-online=true]')).waitFor(WAIT);
    await live.locator('[data-test=reading-temperature]').getByText(/\d/).waitFor(WAIT);
    // The student's attempt is scored live on the card.
    await live.locator('[data-test=board-score]').waitFor(WAIT);
    // Kits that never came online are flagged: the instructor walks over to those teams.
    await board.locator('[data-stuck=true]').nth(7).waitFor(WAIT);
    await live.and(teacher.locator('[data-stuck=false]')).waitFor(WAIT);
    // The 8 kits that never came online, and the spare kit once it is silent (or offline).
    const stuck = await teacher.locator('[data-test=stuck-count]').innerText();
    expect(stuck).toMatch(/^\d+ 组需要帮助$/);
    expect(Number.parseInt(stuck, 10)).toBeGreaterThanOrEqual(8);
    expect(Number.parseInt(stuck, 10)).toBeLessThanOrEqual(10);
    await teacher.locator('[data-test=session-state]', { hasText: '实训课进行中' }).waitFor(WAIT);
    await screenshot(teacher, 'instructor-class-board');
    // A running attempt reviewed: its live grading and its data so far, not an empty "not graded".
    const review = await signIn(context, lab.url, lab.accounts.instructor);
    await review.goto(`${lab.url}/#/instructor/class/${lab.classId}`);
    await review.locator(`[data-test=board-kit-${lab.kitIds[0]}] a[href^="#/review/"]`).click();
    const soFar = review.locator('[data-test=live-so-far]');
    await soFar
      .locator('[data-test=live-score]')
      .getByText(/目前 [\d.]+ \/ \d+ 分/)
      .waitFor(WAIT);
    expect(await soFar.locator('li[data-state]').count()).toBeGreaterThan(0);
    await review.locator('[data-test^=span-chart-] canvas').first().waitFor(WAIT);
    await screenshot(review, 'instructor-review-running');
    await review.close();
  });

  it('the competition leaderboard shows every team live, for a big screen', async () => {
    const screen = await signIn(context, lab.url, lab.accounts.instructor);
    await screen.setViewportSize({ width: 1920, height: 1080 });
    await screen.goto(`${lab.url}/#/board/${sessionId}`);
    await screen.locator('[data-test=leaderboard] tbody tr').nth(9).waitFor(WAIT);
    await screen.locator('[data-test=leaderboard] canvas').first().waitFor(WAIT);
    // The student's team (第1组) is ranked first with a score.
    await screen.locator('[data-test="rank-第1组"] .rank', { hasText: '1' }).waitFor(WAIT);
    await screenshot(screen, 'competition-leaderboard');
    await screen.close();
  });

  it('an instructor ends the lab session, reviews the attempt with its evidence, overrides a criterion and exports', async () => {
    // Ending a whole class's session asks first, saying what happens; "取消" changes nothing.
    await teacher.getByRole('button', { name: '结束实训课' }).click();
    const ask = teacher.locator('[data-test=confirm]');
    await ask.getByText(/^结束本班的实训课？进行中的 \d+ 个作答将一并结束/).waitFor(WAIT);
    await ask.getByRole('button', { name: '取消' }).click();
    await teacher.locator('[data-test=session-state]', { hasText: '实训课进行中' }).waitFor(WAIT);
    await teacher.getByRole('button', { name: '结束实训课' }).click();
    await teacher.locator('[data-test=confirm]').getByRole('button', { name: '确认结束' }).click();
    await teacher.locator('[data-test=session-state]', { hasText: '没有进行中的实训课' }).waitFor(WAIT);
    // The ended session's scores leave the board with it.
    await teacher
      .locator('[data-test=board-score]')
      .first()
      .waitFor({ ...WAIT, state: 'detached' });
    // Its leaderboard says it ended, and its clock stands still.
    const ended = await signIn(context, lab.url, lab.accounts.instructor);
    await ended.goto(`${lab.url}/#/board/${sessionId}`);
    await ended.locator('[data-test=leaderboard] .badge', { hasText: '实训课已结束' }).waitFor(WAIT);
    const clockAt = await ended.locator('[data-test=clock]').innerText();
    await ended.waitForTimeout(2_500);
    expect(await ended.locator('[data-test=clock]').innerText()).toBe(clockAt);
    await ended.close();
    await teacher.goto(`${lab.url}/#/instructor/class/${lab.classId}/review`);
    await teacher.locator('[data-test=assignment-select]').selectOption(quick.assignmentId);
    await teacher.locator('[data-test=review-2026010001]').click();
    await teacher.waitForURL(/#\/review\//);
    // Graded on the first read of the ended attempt: evidence, and the data with spans marked.
    const steady = teacher.locator('[data-test=grade-criterion-steady]');
    await steady.waitFor(WAIT);
    // Evidence in sentences with units, in Chinese: not `readings = 167 · rateHz = 0.5`.
    const summary = await steady.locator('[data-test=evidence-summary]').innerText();
    expect(summary).toMatch(/[\u4e00-\u9fff]/);
    expect(summary).not.toMatch(/ = /);
    await teacher.locator('[data-test=span-chart-temperature] canvas').first().waitFor(WAIT);
    await teacher.locator('[data-test=final-score]').getByText(/\d/).waitFor(WAIT);
    await screenshot(teacher, 'instructor-review');
    const autoScore = await teacher.locator('[data-test=score-parts] [data-test=auto-score]').innerText();

    const override = teacher.locator('[data-test=override]');
    await override.locator('select[name=criterion]').selectOption('plausible');
    await override.locator('input[name=score]').fill('20');
    await override.locator('textarea[name=reason]').fill('传感器放置位置不当，课堂上已当面确认');
    await override.getByRole('button', { name: '保存调整' }).click();
    const plausible = teacher.locator('[data-test=grade-criterion-plausible]');
    await plausible.locator('[data-test=override-note]', { hasText: '传感器放置位置不当' }).waitFor(WAIT);
    expect(await plausible.locator('[data-test=criterion-score] strong').innerText()).toBe('20');
    // The telemetry's own score stays what it was; the change and the adjusted score are named apart.
    const parts = teacher.locator('[data-test=score-parts]');
    await parts.locator('[data-test=adjustments]', { hasText: '传感器放置位置不当' }).waitFor(WAIT);
    expect(await parts.locator('[data-test=auto-score]').innerText()).toBe(autoScore);
    expect(await parts.locator('dt').allInnerTexts()).toEqual(['自动评分', '教师调整', '调整后评分']);
    expect(await teacher.locator('[data-test=final] p').last().innerText()).toMatch(
      /遥测自动评分 [\d.]+，教师调整后/,
    );
    await screenshot(teacher, 'instructor-override');

    await teacher.goto(`${lab.url}/#/instructor/class/${lab.classId}/review`);
    await teacher.locator('[data-test=assignment-select]').selectOption(quick.assignmentId);
    const row = teacher.locator('[data-test=grades] tbody tr', { hasText: '2026010001' });
    await row.locator('[data-test=adjustments]', { hasText: '传感器放置位置不当' }).waitFor(WAIT);
    expect(await row.locator('[data-test=auto-score]').innerText()).toBe(autoScore);
    await screenshot(teacher, 'instructor-assessment');
    const [download] = await Promise.all([
      teacher.waitForEvent('download', WAIT),
      teacher.locator('[data-test=export-csv]').click(),
    ]);
    const csv = readFileSync((await download.path()) as string, 'utf8');
    expect(csv.split('\r\n')[0]).toContain('自动评分,教师调整,调整后评分,企业导师评分');
    expect(csv).toContain('2026010001');
    expect(csv).toContain('传感器放置位置不当');
  });

  it('a student sees their grade with the evidence and the reason of the override', async () => {
    const page = studentPage;
    await page.goto(`${lab.url}/#/student`);
    await page.reload();
    const grades = page.locator('[data-test=my-grades]');
    await grades.getByText('浏览器测试：温度上报').waitFor(WAIT);
    // On a phone, the grade's status stays one word on one line (已定分 broke per character).
    await page.setViewportSize({ width: 390, height: 844 });
    const lines = await grades
      .locator('[data-test=grade-status]')
      .first()
      .evaluate(
        (cell) => cell.getBoundingClientRect().height / Number.parseFloat(getComputedStyle(cell).fontSize),
      );
    expect(lines).toBeLessThan(2.5);
    await page.setViewportSize({ width: 1366, height: 900 });
    await grades.getByRole('link', { name: '评分依据' }).first().click();
    await page.waitForURL(/#\/review\//);
    const plausible = page.locator('[data-test=grade-criterion-plausible]');
    await plausible.locator('[data-test=override-note]', { hasText: '传感器放置位置不当' }).waitFor(WAIT);
    await page.locator('[data-test=span-chart-temperature] canvas').first().waitFor(WAIT);
    // Read-only for the student: no override form.
    expect(await page.locator('[data-test=override]').count()).toBe(0);
    await screenshot(page, 'student-grade-evidence');
  });

  it('the review and the grade list read on a phone: nothing cut off, no word broken per character', async () => {
    const phone = await signIn(context, lab.url, lab.accounts.instructor);
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${lab.url}/#/instructor/class/${lab.classId}/review`);
    await phone.locator('[data-test=assignment-select]').selectOption(quick.assignmentId);
    await phone.locator('[data-test=grades] tbody tr').first().waitFor(WAIT);
    const fits = () =>
      phone.evaluate(() => {
        // A card, or a table's scroll box in it, wider than the screen hides what is past its edge.
        const wide = [...document.querySelectorAll('.card, .scroll')].filter(
          (box) => box.scrollWidth > box.clientWidth + 1,
        );
        return { page: document.documentElement.scrollWidth - window.innerWidth, cards: wide.length };
      });
    expect(await fits()).toEqual({ page: expect.any(Number), cards: 0 });
    expect((await fits()).page).toBeLessThanOrEqual(1);
    await screenshot(phone, 'instructor-assessment-phone');
    await phone.locator('[data-test=review-2026010001]').click();
    await phone.locator('[data-test=grade-criterion-steady]').waitFor(WAIT);
    expect(await fits()).toEqual({ page: expect.any(Number), cards: 0 });
    expect((await fits()).page).toBeLessThanOrEqual(1);
    const lineHeights = await phone.evaluate(() =>
      [...document.querySelectorAll('.badge, th, td.nowrap')]
        .filter((el) => (el as HTMLElement).offsetParent !== null)
        .map((el) => {
          const style = getComputedStyle(el);
          const line = Number.parseFloat(style.lineHeight);
          const height = Number.isNaN(line) ? Number.parseFloat(style.fontSize) * 1.4 : line;
          return (el.getBoundingClientRect().height - Number.parseFloat(style.paddingTop) * 2) / height;
        }),
    );
    // Short labels (statuses, names) stay on one line: they broke into a character per line.
    expect(lineHeights.filter((lines) => lines > 1.6)).toEqual([]);
    await screenshot(phone, 'instructor-review-phone');
    await phone.close();
  });

  it('an admin signs in to every class and to the enterprise side', async () => {
    const admin = await signIn(context, lab.url, lab.accounts.admin);
    await admin.waitForURL(/#\/instructor$/);
    await admin.locator('[data-test="class-物联网2401"]').waitFor(WAIT);
    await admin.locator('header.top nav').getByRole('link', { name: '企业项目' }).click();
    await admin.locator('[data-test=mentor-attempts]').waitFor(WAIT);
    await admin.close();
  });

  it('an instructor starts a new lab session from the board', async () => {
    await teacher.goto(`${lab.url}/#/instructor/class/${lab.classId}`);
    await teacher.locator('[data-test=session-state]', { hasText: '没有进行中的实训课' }).waitFor(WAIT);
    await teacher.getByRole('button', { name: '开始实训课' }).click();
    await teacher.locator('[data-test=session-state]', { hasText: '实训课进行中' }).waitFor(WAIT);
    // A new session starts with no scores: nobody has an attempt in it yet.
    expect(await teacher.locator('[data-test=board-score]').count()).toBe(0);
  });

  it('an instructor imports a roster and binds a kit', async () => {
    await teacher.goto(`${lab.url}/#/instructor/class/${lab.classId}/roster`);
    const importer = teacher.locator('[data-test=roster-import]');
    // A row without 学号: the whole file is refused, the row named, in Chinese.
    await importer.locator('textarea[name=roster]').fill('学号,姓名\n2026019901,测试甲\n,无学号同学\n');
    await importer.getByRole('button', { name: '导入' }).click();
    await teacher.locator('[data-test=roster-errors] li', { hasText: '第 3 行：缺少学号' }).waitFor(WAIT);
    expect(await teacher.locator('[data-test=roster-errors]').innerText()).not.toMatch(
      /is missing|ROSTER_INVALID/,
    );
    await importer.locator('textarea[name=roster]').fill('学号,姓名\n2026019901,测试甲\n2026010002,李艳\n');
    await importer.getByRole('button', { name: '导入' }).click();
    await importer.locator('[data-test=import-result]', { hasText: '新建 1 个账号' }).waitFor(WAIT);
    await teacher.locator('[data-test=roster]').getByText('测试甲').waitFor(WAIT);
    const row = teacher.locator(`[data-test=bind-${lab.kitIds[1]}] select`);
    await row.selectOption({ label: '2026019901 测试甲' });
    await teacher.waitForFunction(
      (kitId) => {
        const select = document.querySelector(`[data-test=bind-${kitId}] select`) as HTMLSelectElement | null;
        return select?.selectedOptions[0]?.textContent?.includes('测试甲') ?? false;
      },
      lab.kitIds[1],
      WAIT,
    );
    const kit = await lab.api<{ binding: { studentId: string | null } }>(
      lab.accounts.admin,
      'GET',
      `/kits/${lab.kitIds[1]}`,
    );
    expect(kit.binding.studentId).not.toBeNull();
    await screenshot(teacher, 'instructor-roster-kits');
  });

  it('a mentor edits a rubric (checked as they type), and gives the enterprise score', async () => {
    const mentor = await signIn(context, lab.url, lab.accounts.mentor);
    await mentor.waitForURL(/#\/mentor$/);
    await mentor.locator('[data-test=mentor-attempts] tbody tr').first().waitFor(WAIT);
    await screenshot(mentor, 'mentor-projects');

    await mentor.goto(`${lab.url}/#/mentor/task/${quick.taskId}`);
    const editor = mentor.locator('[data-test=rubric-editor]');
    const weight = editor.locator('[data-test=rubric-row-0] input[name=weight]');
    await weight.waitFor(WAIT);
    await weight.fill('50');
    await mentor.locator('[data-test=rubric-problem]', { hasText: '须等于 100' }).waitFor(WAIT);
    expect(await mentor.locator('[data-test=save-rubric]').isDisabled()).toBe(true);
    await editor
      .locator('[data-test=rubric-row-1] textarea[name=params]')
      .fill('{"sensor": "co2", "min": 0, "max": 5000}');
    await mentor.locator('[data-test=rubric-problem]', { hasText: 'co2' }).waitFor(WAIT);
    await screenshot(mentor, 'mentor-rubric-editor-invalid');
    await editor
      .locator('[data-test=rubric-row-1] textarea[name=params]')
      .fill('{"sensor": "temperature", "min": -20, "max": 60, "minPercent": 90}');
    await weight.fill('60');
    await mentor.locator('[data-test=weights-sum].ok').waitFor(WAIT);
    await mentor.locator('[data-test=save-rubric]').click();
    await mentor.getByText('已保存。').waitFor(WAIT);
    await screenshot(mentor, 'mentor-rubric-editor');

    await mentor.goto(`${lab.url}/#/mentor`);
    await mentor.locator('[data-test=mentor-review]').first().click();
    const form = mentor.locator('[data-test=mentor-score]');
    await form.locator('input[name=mentor-score]').fill('90');
    await form.locator('textarea[name=comment]').fill('接线规范，数据可靠');
    await form.getByRole('button', { name: '保存评分' }).click();
    await mentor.locator('[data-test=final]').getByText('接线规范，数据可靠').waitFor(WAIT);
    await screenshot(mentor, 'mentor-enterprise-score');
    await mentor.close();
  });

  it('a mentor assigns a task of their project to a team working on it', async () => {
    const mentor = await signIn(context, lab.url, lab.accounts.mentor);
    await mentor.waitForURL(/#\/mentor$/);
    const assign = mentor.locator(`[data-test=project-${lab.projectId}] [data-test=assign-task]`);
    await assign.getByRole('checkbox', { name: '第10组' }).check(WAIT);
    await assign.getByRole('button', { name: '布置' }).click();
    await assign.getByText('已布置。').waitFor(WAIT);
    await screenshot(mentor, 'mentor-assign');
    await mentor.close();
    const teams = await lab.api<{ items: { id: string; name: string }[] }>(
      lab.accounts.instructor,
      'GET',
      `/classes/${lab.classId}/teams?limit=200`,
    );
    const team10 = teams.items.find((team) => team.name === '第10组')?.id;
    const assignments = await lab.api<{ items: { createdBy: string; targets: { teamIds: string[] } }[] }>(
      lab.accounts.instructor,
      'GET',
      `/classes/${lab.classId}/assignments?limit=100`,
    );
    expect(
      assignments.items.some((a) => a.targets.teamIds.length === 1 && a.targets.teamIds[0] === team10),
    ).toBe(true);
  });

  it('had no script errors in any page', () => {
    for (const page of context.pages()) {
      expect((page as Page & { problems?: string[] }).problems ?? []).toEqual([]);
    }
  });
});
