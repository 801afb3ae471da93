/**
 * Roster import: a roster file's checked rows (lab-api/roster.ts reads and checks the file) into a
 * class, all or nothing — new students get an account with an initial password, known ones are
 * enrolled, and rows that clash with other accounts reject the whole file.
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { RosterImport as RosterImportAnswer } from '../../contract/index.ts';
import type { LabDb } from '../../labdb/index.ts';
import { recordAudit } from '../audit.ts';
import type { Person } from '../auth.ts';
import { ApiError, roleZh, say } from '../errors.ts';
import { hashPassword, passwordProblem } from '../passwords.ts';
import { toUser, uniqueViolation } from '../people.ts';
import type { RosterEncoding, RosterRow, RowError } from '../roster.ts';
import type { Classes } from './classes.ts';
import { chunks, marks } from './rows.ts';

/** As the API answers it (contract/classes.ts), with the encoding and row problems as the roster reader names them. */
export interface RosterImport extends Omit<RosterImportAnswer, 'encoding' | 'warnings'> {
  encoding: RosterEncoding;
  warnings: RowError[];
}

/**
 * A roster with row problems: 400 with every row's problem in `details.rows` (row, field, column,
 * problem code, params, and the sentence in both languages); nothing is imported.
 */
export class RosterRejected extends ApiError {
  readonly errors: RowError[];
  constructor(errors: RowError[], encoding?: RosterEncoding) {
    const rows = new Set(errors.map((error) => error.row)).size;
    super(
      400,
      'ROSTER_INVALID',
      say(
        `the roster has problems on ${rows} row${rows === 1 ? '' : 's'}${encoding ? ` (read as ${encoding})` : ''}: nothing was imported; fix the file and upload it again`,
        `名单有 ${rows} 行存在问题${encoding ? `（文件按 ${ENCODING_ZH[encoding]} 读取）` : ''}，未导入任何学生；请修改文件后重新上传`,
      ),
      { encoding: encoding ?? null, rows: errors },
    );
    this.errors = errors;
  }
}

const ENCODING_ZH: Record<RosterEncoding, string> = {
  'utf-8': 'UTF-8',
  gb18030: 'GBK/GB18030',
  'utf-16le': 'UTF-16',
  'utf-16be': 'UTF-16',
};

const PASSWORD_ALPHABET = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** A random initial password (about 70 bits), in blocks a student can type from a printout. */
export function initialPassword(): string {
  for (;;) {
    const chars = Array.from({ length: 12 }, () => PASSWORD_ALPHABET[randomInt(PASSWORD_ALPHABET.length)]);
    const password = `${chars.slice(0, 4).join('')}-${chars.slice(4, 8).join('')}-${chars.slice(8).join('')}`;
    if (!passwordProblem(password)) return password;
  }
}

/** Runs `work` over `items`, at most `limit` at a time (scrypt is heavy: keep the thread pool usable). */
async function pool<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Imports of roster files into classes. */
export class RosterImports {
  readonly #db: LabDb;
  readonly #classes: Classes;

  constructor(db: LabDb, classes: Classes) {
    this.#db = db;
    this.#classes = classes;
  }

  /**
   * Imports checked roster rows into a class, all or nothing: students whose 学号 is unknown get
   * an account (username = 学号, a random initial password returned once), known ones are
   * enrolled. Rows that clash with existing accounts reject the whole file.
   */
  async importRoster(
    actor: Person,
    classId: string,
    rows: readonly RosterRow[],
    encoding: RosterEncoding,
  ): Promise<RosterImport> {
    const cls = await this.#classes.classOr404(classId);
    this.#classes.assertManages(actor, cls);
    type Existing = {
      id: string;
      role: string;
      username: string;
      display_name: string;
      student_number: string;
    };
    const byNumber = new Map<string, Existing>();
    const byUsername = new Map<string, Existing>();
    const numbers = rows.map((row) => row.studentNumber);
    for (const part of chunks(numbers)) {
      const found = await this.#db.all<Existing>(
        `SELECT id, role, username, display_name, student_number FROM users
         WHERE student_number IN (${marks(part.length)}) OR username IN (${marks(part.length)})`,
        [...part, ...part],
      );
      for (const user of found) {
        if (user.student_number !== null) byNumber.set(user.student_number, user);
        byUsername.set(user.username, user);
      }
    }
    const errors: RowError[] = [];
    const warnings: RowError[] = [];
    const existing: { row: RosterRow; user: Existing }[] = [];
    const fresh: RosterRow[] = [];
    for (const row of rows) {
      const user = byNumber.get(row.studentNumber);
      if (user) {
        if (user.role !== 'student') {
          errors.push({
            row: row.row,
            field: 'studentNumber',
            column: '学号',
            problem: 'NOT_A_STUDENT',
            params: { studentNumber: row.studentNumber, role: user.role },
            message: say(
              `学号 ${row.studentNumber} belongs to a ${user.role} account, not a student`,
              `学号 ${row.studentNumber} 已被${roleZh(user.role)}账号使用，不是学生账号`,
            ),
          });
        } else {
          existing.push({ row, user });
          if (user.display_name !== row.name) {
            warnings.push({
              row: row.row,
              field: 'name',
              column: '姓名',
              problem: 'NAME_DIFFERS',
              params: { studentNumber: row.studentNumber, registeredName: user.display_name, name: row.name },
              message: say(
                `学号 ${row.studentNumber} is already ${user.display_name}; the name "${row.name}" in the file was not applied`,
                `学号 ${row.studentNumber} 已登记为“${user.display_name}”，文件中的姓名“${row.name}”未采用`,
              ),
            });
          }
        }
        continue;
      }
      const owner = byUsername.get(row.studentNumber);
      if (owner) {
        errors.push({
          row: row.row,
          field: 'studentNumber',
          column: '学号',
          problem: 'USERNAME_TAKEN',
          params: { studentNumber: row.studentNumber, owner: owner.display_name },
          message: say(
            `the username ${row.studentNumber} is taken by another account (${owner.display_name})`,
            `用户名 ${row.studentNumber} 已被其他账号（${owner.display_name}）占用`,
          ),
        });
        continue;
      }
      fresh.push(row);
    }
    if (errors.length > 0) throw new RosterRejected(errors, encoding);

    const passwords = fresh.map(() => initialPassword());
    const hashes = await pool(passwords, 2, (password) => hashPassword(password));
    return this.#db.transaction(async (tx) => {
      const now = Date.now();
      const created: RosterImport['created'] = [];
      for (const [i, row] of fresh.entries()) {
        const id = randomUUID();
        try {
          await tx.run(
            `INSERT INTO users (id, username, display_name, role, organisation_id, student_number, email, password_hash, disabled, created_at, updated_at, version)
             VALUES (?, ?, ?, 'student', NULL, ?, '', ?, 0, ?, ?, 1)`,
            [id, row.studentNumber, row.name, row.studentNumber, hashes[i] as string, now, now],
          );
        } catch (error) {
          throw uniqueViolation(
            error,
            say(
              `学号 ${row.studentNumber} (row ${row.row}) was registered by someone else meanwhile: upload the roster again`,
              `学号 ${row.studentNumber}（第 ${row.row} 行）刚被他人注册：请重新上传名单`,
            ),
          );
        }
        const user = toUser(
          (await tx.get<Parameters<typeof toUser>[0]>('SELECT * FROM users WHERE id = ?', [
            id,
          ])) as Parameters<typeof toUser>[0],
        );
        await recordAudit(tx, actor, { entity: 'user', entityId: id, action: 'create', after: user });
        await tx.run('INSERT INTO class_members (class_id, user_id) VALUES (?, ?)', [classId, id]);
        created.push({
          row: row.row,
          userId: id,
          studentNumber: row.studentNumber,
          username: row.studentNumber,
          displayName: row.name,
          initialPassword: passwords[i] as string,
        });
      }
      const enrolled: RosterImport['enrolled'] = [];
      const alreadyEnrolled: RosterImport['alreadyEnrolled'] = [];
      for (const { row, user } of existing) {
        const entry = {
          row: row.row,
          userId: user.id,
          studentNumber: row.studentNumber,
          displayName: user.display_name,
        };
        if (await this.#classes.isEnrolled(classId, user.id, tx)) {
          alreadyEnrolled.push(entry);
        } else {
          await tx.run('INSERT INTO class_members (class_id, user_id) VALUES (?, ?)', [classId, user.id]);
          enrolled.push(entry);
        }
      }
      await recordAudit(tx, actor, {
        entity: 'class',
        entityId: classId,
        action: 'roster-import',
        after: {
          encoding,
          rows: rows.length,
          created: created.map((entry) => entry.studentNumber),
          enrolled: enrolled.map((entry) => entry.studentNumber),
          alreadyEnrolled: alreadyEnrolled.map((entry) => entry.studentNumber),
        },
      });
      return { classId, encoding, rows: rows.length, created, enrolled, alreadyEnrolled, warnings };
    });
  }
}
