/**
 * Live grading on the real platform: kits publish over MQTT, the event stream and the retained
 * MQTT topic show each criterion waiting for enough data, then passing or failing soon after the
 * reading that decides it, and the competition leaderboard ranks teams by score, then by time to
 * pass.
 */
import { FormatRegistry } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Attempt } from '../../contract/index.ts';
import {
  type LiveState as ContractLiveState,
  LiveState as PublishedLiveState,
} from '../../contract/index.ts';
import {
  type GradingData,
  gradeAttempt,
  gradeLive,
  type Leaderboard,
  LIVE_DEFAULTS,
  LiveGrader,
  type LiveState,
  type Rubric,
  rankTeams,
} from '../../grading/index.ts';
import {
  Assignments,
  buildApp,
  Classes,
  LabLiveSource,
  LabTasks,
  People,
  type Person,
  type Principal,
} from '../../lab-api/index.ts';
import { attemptGradingTopic, kitTopic, sessionLeaderboardTopic } from '../../protocol/index.ts';
import { collect, connect, eventually, startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

const PASSWORD = 'correct-horse-battery';
const SYSTEM: Principal = { kind: 'service', name: 'test-setup' };

/** warm: ≥ 60 % of temperatures in 25–40 °C; humid: ≥ 50 % of humidities in 40–60 %. */
const RUBRIC: Rubric = {
  criteria: [
    {
      id: 'warm',
      title: { 'zh-CN': '温度达标', en: 'Warm enough' },
      weight: 60,
      partialCredit: false,
      type: 'range',
      params: { sensor: 'temperature', min: 25, max: 40, minPercent: 60 },
    },
    {
      id: 'humid',
      title: 'Humidity in range',
      weight: 40,
      partialCredit: false,
      type: 'range',
      params: { sensor: 'humidity', min: 40, max: 60, minPercent: 50 },
    },
  ],
};

/** A signed-in person and their login token. */
interface Login {
  person: Person;
  token: string;
}

interface SseEvent {
  event: string;
  id?: string;
  data: unknown;
  /** When the client read it (ms). */
  at: number;
}

/** An event stream read over real HTTP with fetch's streaming body. */
async function openStream(url: string, token: string) {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    signal: controller.signal,
  });
  const events: SseEvent[] = [];
  let closed = false;
  if (response.ok && response.body) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    void (async () => {
      let buffer = '';
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          const at = Date.now();
          buffer += decoder.decode(value, { stream: true });
          for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const fields: Record<string, string> = {};
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) continue;
              const colon = line.indexOf(':');
              if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 1).trimStart();
            }
            if (fields.data !== undefined) {
              events.push({
                event: fields.event ?? 'message',
                ...(fields.id === undefined ? {} : { id: fields.id }),
                data: JSON.parse(fields.data),
                at,
              });
            }
          }
        }
      } catch {
        // aborted
      } finally {
        closed = true;
      }
    })();
  }
  return {
    response,
    events,
    isClosed: () => closed,
    /** The first event (from `from` on) that matches; rejects after `timeoutMs`. */
    async waitFor(match: (event: SseEvent) => boolean, timeoutMs = 5_000, from = 0): Promise<SseEvent> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = events.slice(from).find(match);
        if (found) return found;
        if (Date.now() > deadline || closed) throw new Error(`no matching event (got ${events.length})`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    close: () => controller.abort(),
  };
}

// The formats the lab API's validator knows (ajv-formats), for TypeBox's own checker.
FormatRegistry.Set('uuid', (value) =>
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value),
);

/** A state from the stream, checked against the contract's LiveState (what the dashboards read). */
const grading = (event: SseEvent): LiveState => {
  const problems = [...Value.Errors(PublishedLiveState, event.data)].map((e) => `${e.path}: ${e.message}`);
  expect(problems).toEqual([]);
  return event.data as LiveState;
};
// What live grading publishes is the contract's shape (a type that drifts fails the typecheck here).
const _fitsContract = (state: LiveState): ContractLiveState => state;
const criterion = (state: LiveState, id: string) => state.criteria.find((c) => c.id === id);

let lab: TestPlatform;
let staff: Login;
let students: Record<'a' | 'b' | 'c' | 'd' | 'other' | 'outsider', Login>;
let teams: Record<'a' | 'b' | 'c' | 'd', string>;
let kits: Record<'a' | 'b' | 'c', MqttClient>;
let attempts: Record<'a' | 'b' | 'c', Attempt>;
let sessionId: string;
let service: MqttClient;
let serviceAuth: string;

async function login(username: string): Promise<string> {
  const response = await fetch(`${lab.httpUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  return ((await response.json()) as { token: string }).token;
}

async function getJson(path: string, token: string) {
  const response = await fetch(`${lab.httpUrl}/api/v1${path}`, {
    headers: { authorization: token.startsWith('Basic ') ? token : `Bearer ${token}` },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Publishes one reading (at `ts`, or now); resolves with when it was sent. */
async function publish(
  kit: MqttClient,
  kitId: string,
  readings: Record<string, number>,
  ts?: number,
): Promise<number> {
  const at = Date.now();
  await kit.publishAsync(kitTopic(kitId, 'telemetry'), JSON.stringify({ ts, readings }), { qos: 1 });
  return at;
}

/** The attempts started this long before the tests, so kits can send a few minutes of readings at once. */
const STARTED_AGO_MS = 10 * 60_000;

/** `count` readings every 6 s from `from` (a minute of data in 11). */
async function minuteOf(
  kit: MqttClient,
  kitId: string,
  from: number,
  count: number,
  readings: Record<string, number>,
): Promise<void> {
  for (let i = 0; i < count; i++) await publish(kit, kitId, readings, from + i * 6_000);
}

beforeAll(async () => {
  lab = await startTestPlatform();
  const db = lab.platform.labDb;
  const people = new People(db);
  const college = await people.createOrganisation(SYSTEM, { kind: 'college', name: '物联网产业学院' });
  let counter = 0;
  const addUser = async (role: 'admin' | 'student'): Promise<Login> => {
    counter++;
    const username = `${role}${counter}`;
    const user = await people.createUser(SYSTEM, {
      username,
      displayName: `${role} ${counter}`,
      role,
      password: PASSWORD,
      organisationId: role === 'admin' ? college.id : null,
      studentNumber: role === 'student' ? `2026${String(counter).padStart(6, '0')}` : null,
    });
    const person: Person = {
      kind: 'user',
      id: user.id,
      username,
      role,
      organisationId: role === 'admin' ? college.id : null,
      displayName: user.displayName,
    };
    return { person, token: await login(username) };
  };
  staff = await addUser('admin');
  students = {
    a: await addUser('student'),
    b: await addUser('student'),
    c: await addUser('student'),
    d: await addUser('student'),
    other: await addUser('student'),
    outsider: await addUser('student'),
  };
  const admin = staff.person;
  const task = await new LabTasks(db).createTask(admin, {
    title: '温湿度达标竞赛',
    requiredSensors: ['temperature', 'humidity'],
    durationMinutes: 30,
    rubric: RUBRIC,
  });
  const classes = new Classes(db);
  const assignments = new Assignments(db, classes);
  const cls = await classes.createClass(admin, { name: '物联网2402' });
  await classes.members.enrol(
    admin,
    cls.id,
    (['a', 'b', 'c', 'd', 'other'] as const).map((k) => students[k].person.id),
  );
  teams = {
    a: (await classes.teams.createTeam(admin, cls.id, { name: 'A 组', memberIds: [students.a.person.id] }))
      .id,
    b: (
      await classes.teams.createTeam(admin, cls.id, {
        name: 'B 组',
        memberIds: [students.b.person.id, students.other.person.id],
      })
    ).id,
    c: (await classes.teams.createTeam(admin, cls.id, { name: 'C 组', memberIds: [students.c.person.id] }))
      .id,
    d: (await classes.teams.createTeam(admin, cls.id, { name: 'D 组', memberIds: [students.d.person.id] }))
      .id,
  };
  const secrets: Record<string, string> = {};
  for (const key of ['a', 'b', 'c'] as const) {
    secrets[key] = await lab.addKit(`live-${key}`);
    await classes.kits.setBinding(admin, `live-${key}`, { teamId: teams[key] });
  }
  const now = Date.now();
  const assignment = await assignments.createAssignment(admin, cls.id, {
    taskId: task.id,
    opensAt: now - 60_000,
    dueAt: now + 3_600_000,
    teamIds: Object.values(teams),
  });
  sessionId = (await assignments.sessions.startSession(admin, cls.id, { assignmentId: assignment.id })).id;
  kits = {
    a: await connect(lab.mqttUrl, { username: 'live-a', password: secrets.a as string }),
    b: await connect(lab.mqttUrl, { username: 'live-b', password: secrets.b as string }),
    c: await connect(lab.mqttUrl, { username: 'live-c', password: secrets.c as string }),
  };
  attempts = {
    a: await assignments.attempts.startAttempt(students.a.person, assignment.id, {}),
    b: await assignments.attempts.startAttempt(students.b.person, assignment.id, {}),
    c: await assignments.attempts.startAttempt(students.c.person, assignment.id, {}),
  };
  // The attempts started ten minutes ago. The task's new version has live grading follow them
  // again (from their new start) if it picked them up already.
  for (const attempt of Object.values(attempts)) {
    attempt.startedAt -= STARTED_AGO_MS;
    await db.run('UPDATE attempts SET started_at = ? WHERE id = ?', [attempt.startedAt, attempt.id]);
  }
  await db.run('UPDATE lab_tasks SET version = version + 1 WHERE id = ?', [task.id]);
  const account = await lab.addService('live-dashboard');
  serviceAuth = `Basic ${Buffer.from(`${account.name}:${account.secret}`).toString('base64')}`;
  service = await connect(lab.mqttUrl, { username: account.username, password: account.secret });
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([...Object.values(kits ?? {}), service].map((client) => client?.endAsync()));
  await lab?.close();
});

describe('live grading', () => {
  it('grades the live buffer exactly as gradeAttempt grades the same data', () => {
    const t0 = Date.UTC(2026, 2, 1, 1, 0, 0);
    const data: GradingData = {
      series: {
        temperature: Array.from({ length: 600 }, (_, i) => ({ ts: t0 + i * 1000, value: 20 + (i % 13) })),
        humidity: Array.from({ length: 600 }, (_, i) => ({ ts: t0 + i * 1000, value: 45 + (i % 7) * 3 })),
      },
      events: [],
      commands: [],
    };
    const window = { from: t0, to: t0 + 600_000 };
    const live = gradeLive(RUBRIC, window, data);
    const full = gradeAttempt(RUBRIC, window, data);
    expect(live.criteria).toEqual(full.criteria);
    expect(live.total).toBe(full.total);
  });

  it('ranks by score, then time to pass (not passed last), sharing ranks on ties', () => {
    const ranked = rankTeams([
      { teamName: 'c', score: 40, timeToPassSeconds: null },
      { teamName: 'b', score: 100, timeToPassSeconds: 12 },
      { teamName: 'a', score: 100, timeToPassSeconds: 5 },
      { teamName: 'e', score: 40, timeToPassSeconds: 30 },
      { teamName: 'd', score: 40, timeToPassSeconds: null },
    ]);
    expect(ranked.map((t) => [t.teamName, t.rank])).toEqual([
      ['a', 1],
      ['b', 2],
      ['e', 3],
      ['c', 4],
      ['d', 4],
    ]);
  });

  it('puts teams that never started after those that did, and counts names as people do', () => {
    const ranked = rankTeams([
      { teamName: '第10组', score: 0, timeToPassSeconds: null, attempts: 1 },
      { teamName: '第2组', score: 0, timeToPassSeconds: null, attempts: 0 },
      { teamName: '第1组', score: 0, timeToPassSeconds: null, attempts: 0 },
      { teamName: '第3组', score: 10, timeToPassSeconds: null, attempts: 2 },
    ]);
    expect(ranked.map((t) => [t.teamName, t.rank])).toEqual([
      ['第3组', 1],
      ['第10组', 2],
      ['第1组', 3],
      ['第2组', 3],
    ]);
  });

  it('streams criteria turning from failing to passing as data arrives, the same state on MQTT, and ends with the attempt', async () => {
    const url = `${lab.httpUrl}/api/v1/attempts/${attempts.a.id}/live`;
    const stream = await openStream(url, students.a.token);
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const topic = attemptGradingTopic(attempts.a.id);
    const onMqtt = await collect(service, topic);

    // Discovered by the poll: the first state. Nothing passed or failed yet: both wait for data.
    const first = grading(await stream.waitFor((e) => e.event === 'grading'));
    expect(first).toMatchObject({ attemptId: attempts.a.id, kitId: 'live-a', passed: false, score: 0 });
    expect(first.criteria.map((c) => [c.id, c.passed, c.pending])).toEqual([
      ['warm', false, true],
      ['humid', false, true],
    ]);
    expect(criterion(first, 'warm')?.waitingFor).toEqual({
      'zh-CN': '还没有温度读数',
      en: 'no temperature reading yet',
    });

    // One reading is not enough to judge a range: neither green nor red, 0 points, saying so
    // (the sentences come with the next refresh of the details: no score or state changed).
    const start = attempts.a.startedAt;
    await publish(kits.a, 'live-a', { temperature: 20, humidity: 50 }, start + 1_000);
    const one = grading(
      await stream.waitFor((e) => grading(e).lastReadingAt !== null, LIVE_DEFAULTS.detailsEveryMs + 5_000),
    );
    expect(one.criteria.map((c) => [c.id, c.passed, c.pending, c.score])).toEqual([
      ['warm', false, true, 0],
      ['humid', false, true, 0],
    ]);
    expect(one.score).toBe(0);
    expect(criterion(one, 'humid')?.explanation).toEqual({
      'zh-CN': '等待数据：需要至少 10 个湿度读数、60 秒的数据，已有 1 个读数、0 秒。',
      en: 'Waiting for data: needs at least 10 humidity readings over 60 s, has 1 reading over 0 s.',
    });

    // A minute of cold readings with good humidity: humid passes, warm fails — each judged with
    // the sentence of that evaluation.
    await minuteOf(kits.a, 'live-a', start + 7_000, 11, { temperature: 20, humidity: 50 });
    const humid = await stream.waitFor((e) => criterion(grading(e), 'humid')?.passed === true);
    const humidState = grading(humid);
    expect(criterion(humidState, 'warm')).toMatchObject({
      passed: false,
      pending: false,
      waitingFor: null,
      score: 0,
      weight: 60,
    });
    expect(criterion(humidState, 'warm')?.measured.percentInRange).toBe(0);
    expect(criterion(humidState, 'warm')?.explanation.en).toMatch(
      /^Only 0 % of the 12 temperature readings were between 25 and 40 °C/,
    );
    expect(criterion(humidState, 'humid')?.explanation['zh-CN']).toMatch(
      /^12 个湿度读数中有 100 % 在 40 到 60 %RH 范围内/,
    );
    expect(humidState).toMatchObject({ score: 40, maxScore: 100, passed: false, timeToPassSeconds: null });

    // Twenty warm readings: 20 of 32 in range, above the 60 % required.
    await minuteOf(kits.a, 'live-a', start + 80_000, 20, { temperature: 30, humidity: 50 });
    const passing = await stream.waitFor((e) => criterion(grading(e), 'warm')?.passed === true, 5_000);
    // How fast (the 2 s goal) is measured by `npm run bench -- --suite grading`, not asserted here.
    const passed = grading(passing);
    expect(passed).toMatchObject({ passed: true, score: 100, ended: false });
    expect(passed.timeToPassSeconds).toBeGreaterThan(0);
    expect(criterion(passed, 'warm')?.measured.percentInRange).toBeCloseTo(62.5, 1);

    // The retained MQTT topic carries the same state.
    await eventually(
      () => onMqtt.json().some((m) => (m as unknown as LiveState).seq === passed.seq),
      5_000,
      'the passing state on MQTT',
    );
    const onTopic = onMqtt.json().find((m) => (m as unknown as LiveState).seq === passed.seq);
    expect(onTopic).toEqual(passed);

    // A dashboard that subscribes later gets the latest state, retained.
    const lateAccount = await lab.addService('late-dashboard');
    const late = await connect(lab.mqttUrl, { username: lateAccount.username, password: lateAccount.secret });
    const retained = await collect(late, topic);
    await retained.next(1);
    expect(retained.messages[0]?.retain).toBe(true);
    expect((retained.json()[0] as unknown as LiveState).passed).toBe(true);
    await late.endAsync();

    // Ending the attempt ends the stream, with the final state first.
    const ended = await fetch(`${lab.httpUrl}/api/v1/attempts/${attempts.a.id}/end`, {
      method: 'POST',
      headers: { authorization: `Bearer ${students.a.token}` },
    });
    expect(ended.status).toBe(200);
    const last = await stream.waitFor((e) => e.event === 'end', 5_000);
    const final = stream.events[stream.events.indexOf(last) - 1];
    expect(final?.event).toBe('grading');
    expect(grading(final as SseEvent)).toMatchObject({ ended: true, passed: true, score: 100 });
    await eventually(() => stream.isClosed(), 5_000, 'the stream to close');

    // Opening the stream of an ended attempt gives its final state and ends at once.
    const again = await openStream(url, students.a.token);
    await again.waitFor((e) => e.event === 'end');
    expect(grading(again.events[0] as SseEvent)).toMatchObject({ ended: true, passed: true });
    await eventually(() => again.isClosed(), 5_000, 'the stream of an ended attempt to close');
  });

  it('ranks the session’s teams by score, then time to pass, on HTTP and MQTT', async () => {
    // B passes later than A did; C stays cold (humid only); D never started.
    const board = await collect(service, sessionLeaderboardTopic(sessionId));
    await minuteOf(kits.c, 'live-c', attempts.c.startedAt + 1_000, 12, { temperature: 18, humidity: 50 });
    const streamB = await openStream(
      `${lab.httpUrl}/api/v1/attempts/${attempts.b.id}/live`,
      students.b.token,
    );
    await streamB.waitFor((e) => e.event === 'grading');
    // Ten readings over 54 s are not enough to judge; the eleventh, a minute in, is.
    await minuteOf(kits.b, 'live-b', attempts.b.startedAt + 1_000, 10, { temperature: 30, humidity: 55 });
    // With no evaluation in the last second, the reading is graded as soon as it arrives.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const sentAt = await publish(
      kits.b,
      'live-b',
      { temperature: 30, humidity: 55 },
      attempts.b.startedAt + 61_000,
    );
    const passing = await streamB.waitFor((e) => grading(e).passed, 5_000);
    expect(passing.at).toBeGreaterThanOrEqual(sentAt);
    streamB.close();

    const expected = [
      { rank: 1, teamId: teams.a, teamName: 'A 组', score: 100, passed: true, attemptId: attempts.a.id },
      { rank: 2, teamId: teams.b, teamName: 'B 组', score: 100, passed: true, attemptId: attempts.b.id },
      {
        rank: 3,
        teamId: teams.c,
        teamName: 'C 组',
        score: 40,
        passed: false,
        timeToPassSeconds: null,
        attemptId: attempts.c.id,
      },
      {
        rank: 4,
        teamId: teams.d,
        teamName: 'D 组',
        score: 0,
        passed: false,
        timeToPassSeconds: null,
        attemptId: null,
        attempts: 0,
      },
    ];
    let leaderboard: Leaderboard | undefined;
    await eventually(
      async () => {
        const { status, body } = await getJson(`/sessions/${sessionId}/leaderboard`, students.c.token);
        expect(status).toBe(200);
        leaderboard = body as unknown as Leaderboard;
        return leaderboard.teams[2]?.score === 40;
      },
      5_000,
      'C graded on the leaderboard',
    );
    const teamsOnBoard = (leaderboard as Leaderboard).teams;
    expect(teamsOnBoard).toMatchObject(expected);
    const [a, b] = teamsOnBoard;
    expect(a?.timeToPassSeconds).toEqual(expect.any(Number));
    expect(b?.timeToPassSeconds).toBeGreaterThan(a?.timeToPassSeconds as number);
    expect(teamsOnBoard[2]?.criteria).toEqual([
      { id: 'warm', passed: false },
      { id: 'humid', passed: true },
    ]);
    expect(leaderboard).toMatchObject({
      sessionId,
      running: true,
      maxScore: 100,
      taskTitle: '温湿度达标竞赛',
    });

    // The retained MQTT board reaches the same ranking.
    await eventually(
      () => {
        const latest = board.json().at(-1) as unknown as Leaderboard | undefined;
        return (
          latest?.teams.map((t) => t.teamId).join() === Object.values(teams).join() &&
          latest.teams[2]?.score === 40
        );
      },
      5_000,
      'the leaderboard on MQTT',
    );
    expect((board.json().at(-1) as unknown as Leaderboard).teams).toMatchObject(expected);

    // Staff and services see it too.
    expect((await getJson(`/sessions/${sessionId}/leaderboard`, staff.token)).status).toBe(200);
    expect((await getJson(`/sessions/${sessionId}/leaderboard`, serviceAuth)).status).toBe(200);
  });

  it('lets only the attempt’s student, class staff and services follow it; the board stays in the class', async () => {
    const path = `/api/v1/attempts/${attempts.c.id}/live`;
    for (const intruder of [students.other, students.outsider]) {
      const refused = await openStream(`${lab.httpUrl}${path}`, intruder.token);
      expect(refused.response.status).toBe(403);
      expect(((await refused.response.json()) as { code: string }).code).toBe('NOT_YOUR_ATTEMPT');
    }
    const missing = await openStream(
      `${lab.httpUrl}/api/v1/attempts/00000000-0000-4000-8000-000000000000/live`,
      students.c.token,
    );
    expect(missing.response.status).toBe(404);

    const asStaff = await openStream(`${lab.httpUrl}${path}`, staff.token);
    expect(asStaff.response.status).toBe(200);
    expect(grading(await asStaff.waitFor((e) => e.event === 'grading')).attemptId).toBe(attempts.c.id);
    asStaff.close();

    const outsider = await getJson(`/sessions/${sessionId}/leaderboard`, students.outsider.token);
    expect(outsider).toMatchObject({ status: 403, body: { code: 'NOT_YOUR_CLASS' } });
  });

  it('sends heartbeat comments, and a closing server ends open streams', async () => {
    const { labDb, store, registry } = lab.platform;
    const grader = new LiveGrader({ source: new LabLiveSource(labDb), store, heartbeatMs: 50 });
    grader.start();
    const app = await buildApp({
      db: labDb,
      store,
      registry,
      liveGrading: grader,
      stats: () => ({
        ingest: {},
        writer: { accepted: 0, stored: 0, spooled: 0, buffered: 0, deadLettered: 0 },
      }),
      version: 'test',
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const response = await fetch(`http://127.0.0.1:${port}/api/v1/attempts/${attempts.c.id}/live`, {
      headers: { authorization: `Bearer ${students.c.token}` },
    });
    expect(response.status).toBe(200);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!/^: heartbeat \d+$/m.test(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error('the stream closed before a heartbeat');
      text += decoder.decode(value, { stream: true });
    }
    // A grader that starts late reads what the store already has.
    await eventually(() => grader.current(attempts.c.id) !== undefined, 5_000, 'C graded from the store');
    expect(grader.current(attempts.c.id)).toMatchObject({ score: 40, passed: false });
    const endedA = await new Assignments(labDb, new Classes(labDb)).attempts.attemptOr404(attempts.a.id);
    const finalA = await grader.finalState(endedA);
    expect(finalA).toMatchObject({ ended: true, passed: true, score: 100 });
    expect(finalA.timeToPassSeconds).toBeGreaterThan(0);

    const closing = app.close();
    for (;;) {
      const { done } = await reader.read();
      if (done) break;
    }
    await closing;
    await grader.close();
  });

  it('in a cluster, reads the moments before it picked an attempt up once more: a reading another instance flushed late joins the live state', async () => {
    const { labDb, store } = lab.platform;
    // This instance holds every partition; no record reaches it but through the store.
    const grader = new LiveGrader({
      source: new LabLiveSource(labDb),
      store,
      pollIntervalMs: 3_600_000,
      detailsEveryMs: 50,
      settleMs: 300,
      partitions: { hold: async (keys) => new Set(keys), release: async () => {} },
    });
    const before = Date.now();
    grader.start();
    try {
      await eventually(() => grader.current(attempts.c.id) !== undefined, 5_000, 'C picked up');
      const readings = () =>
        (grader.current(attempts.c.id)?.criteria.find((c) => c.id === 'warm')?.measured.readings as number) ??
        0;
      const first = readings();
      // Accepted by another instance just before this one picked the attempt up, stored just after.
      await store.write([
        { kitId: attempts.c.kitId, ts: before - 50, seq: 9_999, readings: { temperature: 30, humidity: 50 } },
      ]);
      await eventually(() => readings() === first + 1, 5_000, 'the late reading in the live state');
    } finally {
      await grader.close();
    }
  });

  it('starts a new attempt on a kit another followed attempt uses with what the kit sent before the poll found it', async () => {
    const { labDb, store } = lab.platform;
    // Polls once at start, then when told: the new attempt is found after the reading arrived.
    const grader = new LiveGrader({ source: new LabLiveSource(labDb), store, pollIntervalMs: 3_600_000 });
    grader.start();
    const assignments = new Assignments(labDb, new Classes(labDb));
    let second: Attempt | undefined;
    try {
      await eventually(() => grader.current(attempts.b.id) !== undefined, 5_000, 'B followed');
      // B's teammate starts an attempt on the same team kit.
      second = await assignments.attempts.startAttempt(students.other.person, attempts.b.assignmentId, {});
      expect(second.kitId).toBe(attempts.b.kitId);
      // Handed to the grader alone (not through the broker): the store never holds this reading.
      const ts = Date.now() + 5;
      grader.record({ kitId: attempts.b.kitId, ts, seq: 1, readings: { temperature: 21.5, humidity: 50 } });
      await grader.pollNow();
      await eventually(
        () => grader.current((second as Attempt).id)?.lastReadingAt === ts,
        5_000,
        'the reading in the new attempt',
      );
    } finally {
      if (second) await assignments.attempts.endAttempt(staff.person, second.id);
      await grader.close();
    }
  });
});
