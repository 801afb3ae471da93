/**
 * Who may read what over MQTT among the lab's people: the broker's person access policy, answered
 * from the lab database. A browser dashboard signs in as `user:<username>` with the person's lab
 * login token and may only subscribe, each topic written out (no wildcards except for admins):
 *
 * - a student: telemetry, status, events and errors of the kits bound to them or their team, the
 *   live grading of their own attempts, and the leaderboard of their classes' lab sessions;
 * - an instructor: the same for the kits, attempts and sessions of the classes they teach;
 * - an admin: everything;
 * - a mentor: nothing (their view of grades is over HTTP).
 */
import type { LabDb } from '../labdb/index.ts';
import { parseKitTopic, TOPIC_PREFIX } from '../protocol/index.ts';
import { type Person, personForToken } from './auth.ts';
import { Classes } from './classes/index.ts';

/** A person as the broker's person access policy (broker/broker.ts) describes them. */
type MqttPerson = Pick<Person, 'id' | 'username' | 'role'>;

/** Kit channels a person may read: what the kit says and what the platform tells it (not commands). */
const READABLE_KIT_CHANNELS = new Set(['telemetry', 'status', 'events', 'errors']);
const ATTEMPT_TOPIC = new RegExp(`^${TOPIC_PREFIX}/attempts/([0-9a-f-]{36})/grading$`);
const SESSION_TOPIC = new RegExp(`^${TOPIC_PREFIX}/sessions/([0-9a-f-]{36})/leaderboard$`);

/** The broker's `PersonAccessPolicy`, answered from the lab database. */
export class MqttPersonAccess {
  readonly #db: LabDb;
  readonly #classes: Classes;

  constructor(db: LabDb) {
    this.#db = db;
    this.#classes = new Classes(db);
  }

  /** The person of a valid, unexpired login token, when it is the username's and they are not disabled. */
  async authenticate(username: string, token: string): Promise<MqttPerson | undefined> {
    if (token === '') return undefined;
    const person = await personForToken(this.#db, token);
    if (!person || person.username.toLowerCase() !== username.toLowerCase()) return undefined;
    return { id: person.id, username: person.username, role: person.role };
  }

  async maySubscribe(person: MqttPerson, topic: string): Promise<boolean> {
    if (person.role === 'admin') return true;
    if (person.role !== 'student' && person.role !== 'instructor') return false;
    if (topic.includes('#') || topic.includes('+') || topic.startsWith('$')) return false;

    const kit = parseKitTopic(topic);
    if (kit) {
      if (!READABLE_KIT_CHANNELS.has(kit.channel)) return false;
      return person.role === 'student'
        ? (await this.#classes.kits.kitsOfStudent(person.id)).has(kit.kitId)
        : this.#instructorHasKit(person.id, kit.kitId);
    }
    const attemptId = ATTEMPT_TOPIC.exec(topic)?.[1];
    if (attemptId) {
      const row = await this.#db.get<{ student_id: string; instructor_id: string | null }>(
        `SELECT a.student_id, c.instructor_id FROM attempts a
           JOIN assignments s ON s.id = a.assignment_id JOIN classes c ON c.id = s.class_id
         WHERE a.id = ?`,
        [attemptId],
      );
      if (!row) return false;
      return person.role === 'student' ? row.student_id === person.id : row.instructor_id === person.id;
    }
    const sessionId = SESSION_TOPIC.exec(topic)?.[1];
    if (sessionId) {
      const row = await this.#db.get<{ class_id: string; instructor_id: string | null }>(
        'SELECT s.class_id, c.instructor_id FROM lab_sessions s JOIN classes c ON c.id = s.class_id WHERE s.id = ?',
        [sessionId],
      );
      if (!row) return false;
      return person.role === 'student'
        ? this.#classes.isEnrolled(row.class_id, person.id)
        : row.instructor_id === person.id;
    }
    return false;
  }

  /** A kit bound in a class the instructor teaches (to one of its teams or students). */
  async #instructorHasKit(instructorId: string, kitId: string): Promise<boolean> {
    const row = await this.#db.get<{ x: number }>(
      `SELECT 1 AS x FROM kit_bindings b JOIN classes c ON c.id = b.class_id
       WHERE b.kit_id = ? AND c.instructor_id = ?`,
      [kitId, instructorId],
    );
    return row !== undefined;
  }
}
