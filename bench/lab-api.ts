/**
 * Lab API benchmark: a platform seeded with 2,000 students in 50 classes, 200 enterprise projects
 * and their tasks, then typical reads at a steady rate — a student's assignments, a class roster,
 * a project search — over real HTTP with keep-alive. p50/p99 latency and errors per read.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../harness/index.ts';
import { hashPassword, hashToken } from '../lab-api/index.ts';
import { type LabDb, openLabDb } from '../labdb/index.ts';
import { percentile } from './load.ts';
import { startPlatformProcess } from './platform-process.ts';
import { emitResult, sleep } from './report.ts';

export interface LabApiBenchOptions {
  students: number;
  classes: number;
  projects: number;
  requestsPerSecond: number;
  seconds: number;
}

const SKILLS = [
  'mqtt',
  'esp32',
  'arduino',
  'sensors',
  'node-red',
  'influxdb',
  'cold-chain',
  'agriculture',
  'security',
  'dashboards',
];

interface Seeded {
  studentTokens: string[];
  instructorTokens: { token: string; classId: string }[];
}

async function seed(db: LabDb, opts: LabApiBenchOptions): Promise<Seeded> {
  const now = Date.now();
  const hash = await hashPassword('bench-password-1'); // one hash for all: seeding, not a login test
  const token = () => randomBytes(24).toString('base64url');
  return db.transaction(async (tx) => {
    const college = randomUUID();
    await tx.run(
      "INSERT INTO organisations (id, kind, name, created_at, updated_at) VALUES (?, 'college', '物联网产业学院', ?, ?)",
      [college, now, now],
    );
    const enterprises: string[] = [];
    const mentors: string[] = [];
    for (let i = 0; i < 20; i++) {
      const id = randomUUID();
      enterprises.push(id);
      await tx.run(
        "INSERT INTO organisations (id, kind, name, industry, created_at, updated_at) VALUES (?, 'enterprise', ?, ?, ?, ?)",
        [id, `合作企业${i}`, SKILLS[i % SKILLS.length] as string, now, now],
      );
      const mentor = randomUUID();
      mentors.push(mentor);
      await tx.run(
        "INSERT INTO users (id, username, display_name, role, organisation_id, password_hash, created_at, updated_at) VALUES (?, ?, ?, 'mentor', ?, ?, ?, ?)",
        [mentor, `mentor${i}`, `导师${i}`, id, hash, now, now],
      );
    }
    const tasks: string[] = [];
    for (let p = 0; p < opts.projects; p++) {
      const project = randomUUID();
      const skills = JSON.stringify([SKILLS[p % SKILLS.length], SKILLS[(p * 3 + 1) % SKILLS.length]]);
      await tx.run(
        `INSERT INTO projects (id, organisation_id, title, background, goals, required_skills, deliverables, difficulty, status, created_by, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?)`,
        [
          project,
          enterprises[p % 20] as string,
          `项目${p}: 冷库温湿度监测 ${SKILLS[p % SKILLS.length]}`,
          '企业真实需求背景 '.repeat(10),
          '目标',
          skills,
          (p % 5) + 1,
          p % 10 === 0 ? 'draft' : 'published',
          mentors[p % 20] as string,
          now,
          now,
        ],
      );
      for (let t = 0; t < 2; t++) {
        const task = randomUUID();
        tasks.push(task);
        await tx.run(
          `INSERT INTO lab_tasks (id, project_id, title, instructions, required_sensors, skills, duration_minutes, rubric, status, created_by, created_at, updated_at)
           VALUES (?, ?, ?, '## 实验步骤', '["temperature","humidity"]', ?, 90, '{"criteria":[]}', 'published', ?, ?, ?)`,
          [task, project, `任务${p}-${t}`, skills, mentors[p % 20] as string, now, now],
        );
      }
    }
    const studentTokens: string[] = [];
    const instructorTokens: { token: string; classId: string }[] = [];
    const perClass = Math.ceil(opts.students / opts.classes);
    let studentNumber = 0;
    for (let c = 0; c < opts.classes; c++) {
      const instructor = randomUUID();
      await tx.run(
        "INSERT INTO users (id, username, display_name, role, organisation_id, password_hash, created_at, updated_at) VALUES (?, ?, ?, 'instructor', ?, ?, ?, ?)",
        [instructor, `teacher${c}`, `教师${c}`, college, hash, now, now],
      );
      const classId = randomUUID();
      await tx.run(
        'INSERT INTO classes (id, name, term, instructor_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
        [classId, `物联网${2400 + c}`, '2026秋', instructor, now, now],
      );
      const instructorToken = token();
      await tx.run(
        'INSERT INTO auth_tokens (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)',
        [hashToken(instructorToken), instructor, now, now + 86_400_000],
      );
      instructorTokens.push({ token: instructorToken, classId });
      const teams: string[] = [];
      for (let t = 0; t < perClass / 4; t++) {
        const team = randomUUID();
        teams.push(team);
        await tx.run('INSERT INTO teams (id, class_id, name, created_at) VALUES (?, ?, ?, ?)', [
          team,
          classId,
          `第${t + 1}组`,
          now,
        ]);
      }
      for (let a = 0; a < 4; a++) {
        const assignment = randomUUID();
        await tx.run(
          'INSERT INTO assignments (id, task_id, class_id, opens_at, due_at, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
          [
            assignment,
            tasks[(c * 4 + a) % tasks.length] as string,
            classId,
            now - 86_400_000,
            now + 7 * 86_400_000,
            instructor,
            now,
            now,
          ],
        );
        for (const team of teams)
          await tx.run('INSERT INTO assignment_targets (assignment_id, team_id) VALUES (?, ?)', [
            assignment,
            team,
          ]);
      }
      for (let s = 0; s < perClass && studentNumber < opts.students; s++) {
        const student = randomUUID();
        const number = `2026${String(studentNumber++).padStart(6, '0')}`;
        await tx.run(
          "INSERT INTO users (id, username, display_name, role, student_number, password_hash, created_at, updated_at) VALUES (?, ?, ?, 'student', ?, ?, ?, ?)",
          [student, number, `学生${number}`, number, hash, now, now],
        );
        await tx.run('INSERT INTO class_members (class_id, user_id) VALUES (?, ?)', [classId, student]);
        await tx.run('INSERT INTO team_members (team_id, user_id) VALUES (?, ?)', [
          teams[Math.floor(s / 4) % teams.length] as string,
          student,
        ]);
        const studentToken = token();
        await tx.run(
          'INSERT INTO auth_tokens (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)',
          [hashToken(studentToken), student, now, now + 86_400_000],
        );
        studentTokens.push(studentToken);
      }
    }
    return { studentTokens, instructorTokens };
  });
}

export async function labApiBench(opts: LabApiBenchOptions): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'iotlab-bench-lab-'));
  const db = openLabDb(join(dataDir, 'lab.sqlite'));
  const seeded = await seed(db, opts);
  await db.close();
  const platform = await startPlatformProcess({
    IOTLAB_DATA_DIR: dataDir,
    IOTLAB_HTTP_PORT: String(await freePort()),
    IOTLAB_MQTT_PORT: String(await freePort()),
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const reads = [
    {
      name: 'my assignments',
      url: () => '/api/v1/me/assignments',
      token: (i: number) => seeded.studentTokens[i % seeded.studentTokens.length] as string,
    },
    {
      name: 'class roster',
      url: (i: number) =>
        `/api/v1/classes/${seeded.instructorTokens[i % seeded.instructorTokens.length]?.classId}/students`,
      token: (i: number) => seeded.instructorTokens[i % seeded.instructorTokens.length]?.token as string,
    },
    {
      name: 'project search',
      url: (i: number) =>
        `/api/v1/projects?q=${encodeURIComponent('冷库')}&skill=${SKILLS[i % SKILLS.length]}&limit=20`,
      token: (i: number) => seeded.studentTokens[(i * 7) % seeded.studentTokens.length] as string,
    },
  ];
  const latencies = new Map<string, number[]>(reads.map((r) => [r.name, []]));
  const errors = new Map<string, number>(reads.map((r) => [r.name, 0]));
  const statuses = new Map<string, Set<number>>(reads.map((r) => [r.name, new Set()]));
  try {
    // Warm-up, then a steady rate; each request is timed from send to the last byte.
    const pending: Promise<void>[] = [];
    const start = Date.now();
    const total = opts.requestsPerSecond * opts.seconds;
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / opts.requestsPerSecond;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      const read = reads[i % reads.length] as (typeof reads)[number];
      pending.push(
        (async () => {
          const sent = performance.now();
          try {
            const status = await get(`${platform.httpUrl}${read.url(i)}`, agent, read.token(i));
            statuses.get(read.name)?.add(status);
            if (status !== 200) errors.set(read.name, (errors.get(read.name) ?? 0) + 1);
          } catch {
            errors.set(read.name, (errors.get(read.name) ?? 0) + 1);
          }
          latencies.get(read.name)?.push(performance.now() - sent);
        })(),
      );
    }
    await Promise.all(pending);
    for (const read of reads) {
      const sorted = (latencies.get(read.name) ?? []).sort((a, b) => a - b);
      emitResult('lab-api', {
        run: read.name,
        students: opts.students,
        classes: opts.classes,
        projects: opts.projects,
        totalRequestsPerSecond: opts.requestsPerSecond,
        requests: sorted.length,
        p50Ms: Math.round((percentile(sorted, 50) ?? 0) * 10) / 10,
        p99Ms: Math.round((percentile(sorted, 99) ?? 0) * 10) / 10,
        errors: errors.get(read.name),
        statuses: [...(statuses.get(read.name) ?? [])],
      });
    }
  } finally {
    agent.destroy();
    await platform.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** GET with a kept-alive connection; resolves with the status once the whole body has arrived. */
function get(url: string, agent: Agent, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: { authorization: `Bearer ${token}` } }, (response) => {
      response.resume();
      response.once('end', () => resolve(response.statusCode ?? 0));
      response.once('error', reject);
    });
    req.once('error', reject);
    req.end();
  });
}
