import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import type { Role } from '../../lab-api/index.ts';
import { AutomaticGrading, buildApp, People } from '../../lab-api/index.ts';
import { KitRegistry, type LabDb, openLabDb, openPostgresLabDb } from '../../labdb/index.ts';
import { createEmbeddedStore, type TelemetryStore } from '../../telemetry/index.ts';
import { freshLabDatabase } from './lab-db.ts';

export const PASSWORD = 'correct-horse-battery';

/** A signed-in person of the test lab (lab-api/auth.ts `Person`) and their login token. */
export interface Person {
  id: string;
  username: string;
  role: Role;
  token: string;
}

export interface TestLab {
  app: FastifyInstance;
  db: LabDb;
  store: TelemetryStore;
  registry: KitRegistry;
  college: { id: string };
  enterprise: { id: string };
  /** One signed-in person per role (the mentor works for `enterprise`). */
  users: Record<Role, Person>;
  /** Creates and signs in another person. */
  addUser(
    role: Role,
    extra?: { organisationId?: string; studentNumber?: string; username?: string },
  ): Promise<Person>;
  /** Another connection to the same lab database, as a second platform instance would have. */
  openLabDb(): Promise<LabDb>;
  /** `app.inject` as a person (`as`), a service (`service`) or nobody. */
  call(options: InjectOptions & { as?: Person }): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

const SYSTEM = { kind: 'service', name: 'test-setup' } as const;

/**
 * The lab API over a real (temporary) lab database and embedded store, built with `buildApp` and
 * driven with `app.inject`; one signed-in person per role. The lab database is a SQLite file, or
 * with IOTLAB_TEST_LAB_DB=postgres a fresh database on the suite's PostgreSQL (tests/helpers/lab-db.ts).
 */
export async function startTestLab(
  options: {
    beforeReady?: (app: FastifyInstance) => void;
    /** As the platform grades ended attempts (default: its defaults); false: only when a grade is read. */
    automaticGrading?: { sweepMs: number; settleMs: number } | false;
  } = {},
): Promise<TestLab> {
  const dir = mkdtempSync(join(tmpdir(), 'iotlab-lab-'));
  const postgres = await freshLabDatabase();
  const openConnection = async () =>
    postgres ? await openPostgresLabDb(postgres.url) : openLabDb(join(dir, 'lab.sqlite'));
  const db = await openConnection();
  const others: LabDb[] = [];
  const store = createEmbeddedStore({ path: join(dir, 'telemetry.sqlite'), retentionDays: 0 });
  const registry = new KitRegistry(db);
  const automaticGrading =
    options.automaticGrading === false
      ? undefined
      : new AutomaticGrading({
          db,
          store,
          log: pino({ level: 'silent' }),
          ...(options.automaticGrading ?? { sweepMs: 10_000, settleMs: 2_000 }),
        });
  const app = await buildApp({
    db,
    store,
    registry,
    ...(automaticGrading ? { automaticGrading } : {}),
    stats: () => ({
      ingest: {},
      writer: { accepted: 0, stored: 0, spooled: 0, buffered: 0, deadLettered: 0 },
    }),
    version: 'test',
  });
  options.beforeReady?.(app);
  automaticGrading?.start();
  const people = new People(db);
  const college = await people.createOrganisation(SYSTEM, { kind: 'college', name: '物联网产业学院' });
  const enterprise = await people.createOrganisation(SYSTEM, {
    kind: 'enterprise',
    name: '穗冷链物流有限公司',
    nameEn: 'Sui Cold-Chain Logistics',
    industry: 'cold-chain logistics',
  });
  let counter = 0;
  const signIn = async (username: string): Promise<string> => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username, password: PASSWORD },
    });
    if (response.statusCode !== 200) throw new Error(`login of ${username} failed: ${response.body}`);
    return (response.json() as { token: string }).token;
  };
  const addUser: TestLab['addUser'] = async (role, extra = {}) => {
    counter++;
    const username = extra.username ?? `${role}${counter}`;
    const user = await people.createUser(SYSTEM, {
      username,
      displayName: `${role} ${counter}`,
      role,
      password: PASSWORD,
      organisationId:
        extra.organisationId ?? (role === 'mentor' ? enterprise.id : role === 'student' ? null : college.id),
      studentNumber:
        role === 'student' ? (extra.studentNumber ?? `2026${String(counter).padStart(6, '0')}`) : null,
    });
    return { id: user.id, username, role, token: await signIn(username) };
  };
  const users = {
    admin: await addUser('admin'),
    instructor: await addUser('instructor'),
    mentor: await addUser('mentor'),
    student: await addUser('student'),
  };
  return {
    app,
    db,
    store,
    registry,
    college,
    enterprise,
    users,
    addUser,
    async openLabDb() {
      const another = await openConnection();
      others.push(another);
      return another;
    },
    call({ as, headers, ...options }) {
      return app.inject({
        ...options,
        headers: { ...headers, ...(as ? { authorization: `Bearer ${as.token}` } : {}) },
      });
    },
    async close() {
      await automaticGrading?.close();
      await app.close();
      await store.close();
      await Promise.all(others.map((other) => other.close()));
      await db.close();
      await postgres?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
