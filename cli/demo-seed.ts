import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import {
  Assignments,
  Classes,
  LabTasks,
  MentorPool,
  People,
  type Person,
  type Principal,
  Projects,
} from '../lab-api/index.ts';
import type { KitRegistry, LabDb } from '../labdb/index.ts';

export interface DemoAccount {
  role: string;
  username: string;
  password: string;
}

const ENTERPRISE = '穗田智慧农业科技有限公司';
/**
 * The demo class: 40 students, each with a name of their own (surnames as common as in a real
 * class, given names of students born around 2006), in roster order (学号 2026010001…).
 */
export const DEMO_STUDENT_NAMES: readonly string[] = [
  '王子涵 李浩然 张欣怡 刘宇航 陈思远 杨梓萱 黄俊杰 赵雨桐 吴嘉怡 周志强',
  '徐明轩 孙佳琪 马骁 朱婉清 胡天宇 郭静怡 何家豪 林诗涵 罗子轩 高梦瑶',
  '梁振宇 宋雅婷 郑博文 谢雨欣 韩晨阳 唐思琪 冯浩宇 于洁 董明杰 萧雨萌',
  '程一鸣 曹欣妍 袁凯文 邓紫涵 许文博 傅佳慧 沈俊熙 曾可欣 彭昊天 吕沐阳',
].flatMap((row) => row.split(' '));

/** Skill tags of the demo project and its tasks, as a Chinese college writes them (ids stay ASCII elsewhere). */
const SKILL = { esp32: 'ESP32', mqtt: 'MQTT', wiring: '传感器接线', closedLoop: '闭环控制' } as const;

/** What a kit of a simulator profile is called on a bench of the training base. */
const BENCH_KINDS: Readonly<Record<string, string>> = {
  greenhouse: '温室',
  'air-quality': '燃气监测',
  'cold-chain': '冷链',
  security: '安防',
};

/** A kit's display name in the demo, e.g. "温室1号工位" for bench 1 of the greenhouse lab. */
export function demoKitName(profile: string, bench: number): string {
  return `${BENCH_KINDS[profile] ?? '实训'}${bench}号工位`;
}

/**
 * What `iotlab demo` shows of the lab: the college and a smart-agriculture enterprise, an admin,
 * an instructor, an enterprise mentor (双师型), a class of 40 students in 10 teams with kits bound,
 * one enterprise project with two lab tasks, and an open assignment. Created through the same
 * domain code as the API (validated, audited), once: a later start changes nothing, and prints
 * the accounts kept in `accountsFile` (a data directory seeded before that file existed gets new
 * passwords once, then keeps them).
 */
export async function seedDemoLab(
  db: LabDb,
  registry: KitRegistry,
  kitIds: readonly string[],
  accountsFile?: string,
): Promise<DemoAccount[]> {
  const people = new People(db);
  const password = () => `demo-${randomBytes(6).toString('base64url')}`;
  const system: Principal = { kind: 'service', name: 'demo-seed' };
  const seeded = (await people.listOrganisations('enterprise')).some((org) => org.name === ENTERPRISE);
  const kept = accountsFile ? readAccounts(accountsFile) : undefined;
  if (seeded && kept) return kept;
  const accounts: DemoAccount[] = [];
  if (seeded) {
    for (const username of ['admin', 'teacher.chen', 'mentor.liu', '2026010001']) {
      const found = await people.userForLogin(username);
      if (!found) continue;
      const fresh = password();
      await people.updateUser(system, found.user.id, found.user.version, { password: fresh });
      accounts.push({ role: found.user.role, username, password: fresh });
    }
    if (accountsFile) writeAccounts(accountsFile, accounts);
    return accounts;
  }
  const created = await seedOnce(db, registry, kitIds, people, password, system);
  if (accountsFile) writeAccounts(accountsFile, created);
  return created;
}

/** The demo's accounts as printed at its first start (readable by this machine's user only). */
function readAccounts(file: string): DemoAccount[] | undefined {
  try {
    const accounts = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return Array.isArray(accounts) ? (accounts as DemoAccount[]) : undefined;
  } catch {
    return undefined;
  }
}

function writeAccounts(file: string, accounts: readonly DemoAccount[]): void {
  writeFileSync(file, `${JSON.stringify(accounts, null, 2)}\n`, { mode: 0o600 });
}

async function seedOnce(
  db: LabDb,
  registry: KitRegistry,
  kitIds: readonly string[],
  people: People,
  password: () => string,
  system: Principal,
): Promise<DemoAccount[]> {
  const accounts: DemoAccount[] = [];

  const college =
    (await people.listOrganisations('college'))[0] ??
    (await people.createOrganisation(system, {
      kind: 'college',
      name: '物联网产业学院',
      nameEn: 'IoT Industry College',
    }));
  const enterprise = await people.createOrganisation(system, {
    kind: 'enterprise',
    name: ENTERPRISE,
    nameEn: 'Suitian Smart Agriculture',
    industry: 'smart agriculture',
    description: '为华南地区温室大棚提供环境监测与自动灌溉方案的合作企业。',
  });
  const add = async (
    username: string,
    displayName: string,
    role: 'admin' | 'instructor' | 'mentor',
    organisationId: string,
  ) => {
    const secret = password();
    const user = await people.createUser(system, {
      username,
      displayName,
      role,
      password: secret,
      organisationId,
    });
    accounts.push({ role, username, password: secret });
    return { kind: 'user', id: user.id, username, role, organisationId, displayName } satisfies Person;
  };
  const admin = await add('admin', '系统管理员', 'admin', college.id);
  const instructor = await add('teacher.chen', '陈老师', 'instructor', college.id);
  const mentor = await add('mentor.liu', '刘工（企业导师）', 'mentor', enterprise.id);

  await new MentorPool(db).saveMentorProfile(admin, mentor.id, 0, {
    expertise: ['智慧农业', SKILL.esp32, SKILL.mqtt, '传感器标定'],
    availability: '周二、周四下午（2026 秋季学期）',
    available: true,
    dualQualified: true,
    bio: '十年温室自动化项目经验，负责企业侧项目评价。',
  });
  const projects = new Projects(db);
  const tasks = new LabTasks(db);
  const project = await projects.createProject(mentor, {
    title: '温室大棚环境智能监测',
    background: '合作企业的温室大棚需要实时掌握温湿度、光照和土壤湿度，并在高温时自动通风。',
    goals: '完成传感器接线与数据上报，实现高温自动开风扇的闭环控制。',
    requiredSkills: [SKILL.esp32, SKILL.mqtt, SKILL.wiring, SKILL.closedLoop],
    deliverables: '可运行的套件、实验数据、简短的项目报告',
    difficulty: 2,
  });
  await projects.setProjectStatus(mentor, project.id, project.version, 'published');
  const sampling = await tasks.createTask(instructor, {
    projectId: project.id,
    title: '温湿度采集与上报',
    instructions: '## 步骤\n1. 按接线图连接 DHT22。\n2. 每 2 秒上报一次温湿度。\n3. 连续运行 10 分钟。',
    requiredSensors: ['temperature', 'humidity'],
    skills: [SKILL.wiring, SKILL.mqtt],
    durationMinutes: 45,
    // School and enterprise assess together (校企合作): the mentor's score counts for a fifth.
    mentorWeight: 20,
    rubric: {
      criteria: [
        {
          id: 'sampling',
          title: { 'zh-CN': '采样频率', en: 'Sampling' },
          weight: 30,
          partialCredit: true,
          type: 'sampling',
          params: { sensor: 'temperature', maxIntervalSeconds: 5, minMinutes: 10 },
        },
        {
          id: 'complete',
          title: { 'zh-CN': '数据完整', en: 'Completeness' },
          weight: 30,
          partialCredit: true,
          type: 'completeness',
          params: { sensor: 'humidity', maxGapSeconds: 30, minPercent: 90 },
        },
        {
          id: 'plausible',
          title: { 'zh-CN': '数值合理', en: 'Plausible range' },
          weight: 30,
          partialCredit: true,
          type: 'range',
          params: { sensor: 'temperature', min: 5, max: 45, minPercent: 95 },
        },
        {
          id: 'authentic',
          title: { 'zh-CN': '真实测量', en: 'Measured, not made up' },
          weight: 10,
          partialCredit: false,
          type: 'authenticity',
        },
      ],
    },
  });
  await tasks.setTaskStatus(instructor, sampling.id, sampling.version, 'published');
  const closedLoop = await tasks.createTask(mentor, {
    projectId: project.id,
    title: '高温自动通风（闭环控制）',
    instructions: '## 步骤\n1. 温度超过 28 °C 时打开风扇。\n2. 观察温度下降。',
    requiredSensors: ['temperature'],
    requiredActuators: ['fan'],
    skills: [SKILL.closedLoop, SKILL.esp32],
    durationMinutes: 60,
    mentorWeight: 20,
    rubric: {
      criteria: [
        {
          id: 'responds',
          title: { 'zh-CN': '超温响应', en: 'Responds to heat' },
          weight: 50,
          partialCredit: false,
          type: 'threshold_response',
          params: { sensor: 'temperature', above: 28, respondWith: { actuator: 'fan' }, withinSeconds: 10 },
        },
        {
          id: 'cools',
          title: { 'zh-CN': '降温效果', en: 'Fan cools' },
          weight: 40,
          partialCredit: true,
          type: 'actuator_effect',
          params: { actuator: 'fan', sensor: 'temperature', minChange: -2, withinSeconds: 60 },
        },
        {
          id: 'authentic',
          title: { 'zh-CN': '真实测量', en: 'Measured, not made up' },
          weight: 10,
          partialCredit: false,
          type: 'authenticity',
        },
      ],
    },
  });
  await tasks.setTaskStatus(mentor, closedLoop.id, closedLoop.version, 'published');

  const classes = new Classes(db);
  const cls = await classes.createClass(instructor, {
    name: '物联网2401',
    term: '2026秋',
    instructorId: instructor.id,
  });
  const rows = Array.from({ length: 40 }, (_, i) => ({
    row: i + 2,
    studentNumber: `20260100${String(i + 1).padStart(2, '0')}`,
    name: DEMO_STUDENT_NAMES[i] as string,
  }));
  const roster = await classes.rosters.importRoster(instructor, cls.id, rows, 'utf-8');
  const first = roster.created[0];
  if (first) accounts.push({ role: 'student', username: first.username, password: first.initialPassword });
  const teamIds: string[] = [];
  for (let t = 0; t < 10; t++) {
    const members = roster.created.slice(t * 4, t * 4 + 4).map((student) => student.userId);
    const team = await classes.teams.createTeam(instructor, cls.id, {
      name: `第${t + 1}组`,
      projectId: project.id,
      memberIds: members,
    });
    teamIds.push(team.id);
  }
  // The simulated kits go to the first teams; the other teams get kits that are registered but off.
  const ids = [...kitIds];
  for (let t = ids.length; t < teamIds.length; t++) {
    const id = `gh-bench-${String(t + 1).padStart(2, '0')}`;
    if (!(await registry.getKit(id)))
      await registry.addKit({ id, name: demoKitName('greenhouse', t + 1), kind: 'esp32' });
    ids.push(id);
  }
  for (const [t, teamId] of teamIds.entries()) {
    const kitId = ids[t];
    if (kitId) await classes.kits.setBinding(instructor, kitId, { teamId });
  }
  const now = Date.now();
  await new Assignments(db, classes).createAssignment(instructor, cls.id, {
    taskId: sampling.id,
    opensAt: now - 60_000,
    dueAt: now + 7 * 86_400_000,
    teamIds,
  });
  return accounts;
}

/**
 * Opens today's lab session for the demo class and starts an attempt for one student of each team
 * that has a simulated kit, so live grading has criteria turning green or red as the kits' data
 * arrives. A session already running (the last start's, or one an instructor opened) is left as it
 * is, with its attempts: restarting the demo never ends anyone's session.
 */
export async function startDemoSession(
  db: LabDb,
  kitIds: readonly string[],
): Promise<{ sessionId: string; attempts: number; attemptIds: Record<string, string> }> {
  const classes = new Classes(db);
  const assignments = new Assignments(db, classes);
  const teacher = await db.get<{ id: string; organisation_id: string | null; display_name: string }>(
    "SELECT id, organisation_id, display_name FROM users WHERE username = 'teacher.chen'",
  );
  const cls = await db.get<{ id: string }>("SELECT id FROM classes WHERE name = '物联网2401'");
  const assignment = cls
    ? await db.get<{ id: string }>(
        'SELECT id FROM assignments WHERE class_id = ? ORDER BY created_at LIMIT 1',
        [cls.id],
      )
    : undefined;
  if (!teacher || !cls || !assignment) throw new Error('the demo lab is not seeded');
  const instructor: Person = {
    kind: 'user',
    id: teacher.id,
    username: 'teacher.chen',
    role: 'instructor',
    organisationId: teacher.organisation_id,
    displayName: teacher.display_name,
  };
  const running = await db.get<{ id: string }>(
    'SELECT id FROM lab_sessions WHERE class_id = ? AND ended_at IS NULL ORDER BY started_at DESC LIMIT 1',
    [cls.id],
  );
  if (running) {
    const attempts = await db.all<{ id: string; kit_id: string }>(
      'SELECT id, kit_id FROM attempts WHERE session_id = ? AND ended_at IS NULL',
      [running.id],
    );
    const attemptIds = Object.fromEntries(attempts.map((a) => [a.kit_id, a.id]));
    return { sessionId: running.id, attempts: attempts.length, attemptIds };
  }
  const session = await assignments.sessions.startSession(instructor, cls.id, {
    assignmentId: assignment.id,
  });
  /** kit id → the attempt graded live on it. */
  const attemptIds: Record<string, string> = {};
  for (const kitId of kitIds) {
    const student = await db.get<{ user_id: string }>(
      'SELECT tm.user_id FROM kit_bindings b JOIN team_members tm ON tm.team_id = b.team_id WHERE b.kit_id = ? ORDER BY tm.user_id LIMIT 1',
      [kitId],
    );
    if (!student) continue;
    const attempt = await assignments.attempts.startAttempt(instructor, assignment.id, {
      studentId: student.user_id,
      kitId,
    });
    attemptIds[kitId] = attempt.id;
  }
  return { sessionId: session.id, attempts: Object.keys(attemptIds).length, attemptIds };
}
