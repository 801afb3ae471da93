/**
 * Grade reports: per assignment, the grade of each student (their best attempt) and each team
 * (the mean of its graded members), a class's grades over all its assignments (for the exports),
 * and per-criterion statistics. Ended attempts not graded yet are graded on the way.
 */
import type { Principal } from '../auth.ts';
import { type Assignment, type AttemptRow, type ClassInfo, toAttempt } from '../classes/index.ts';
import { ApiError, say } from '../errors.ts';
import { naturalOrder } from '../names.ts';
import { localizedTitle } from '../rubric.ts';
import { gradeOf, round2 } from './final-grade.ts';
import {
  type GradeRecords,
  MENTOR_SELECT,
  type MentorRow,
  OVERRIDE_SELECT,
  type OverrideRow,
  type RunRow,
  toMentorScore,
  toOverride,
  toRun,
} from './records.ts';
import type { GradingRuns } from './runs.ts';
import type {
  AssignmentGrades,
  AssignmentStatistics,
  AttemptData,
  CriterionStatistics,
  GradeOverride,
  GradeRun,
  MentorScore,
  ReviewedCriterion,
  StudentGrade,
  TaskInfo,
  TeamGrade,
} from './types.ts';

/** Grades per assignment and class, and per-criterion statistics, for the staff of the class. */
export class GradeReports {
  readonly #records: GradeRecords;
  readonly #runs: GradingRuns;

  constructor(records: GradeRecords, runs: GradingRuns) {
    this.#records = records;
    this.#runs = runs;
  }

  /** The staff of the assignment's class (admins, its instructor). */
  async assignmentForStaff(actor: Principal, assignmentId: string): Promise<Assignment> {
    const assignment = await this.#records.assignments.assignmentOr404(assignmentId);
    this.#records.assertStaff(actor, await this.#records.classes.classOr404(assignment.classId));
    return assignment;
  }

  async classForStaff(actor: Principal, classId: string): Promise<ClassInfo> {
    const cls = await this.#records.classes.classOr404(classId);
    this.#records.assertStaff(actor, cls);
    return cls;
  }

  /** Every attempt of an assignment with its latest run, overrides, mentor score and final grade. */
  async #attemptsOf(assignment: Assignment, task: TaskInfo): Promise<AttemptData[]> {
    const attemptRows = await this.#records.db.all<AttemptRow>(
      'SELECT * FROM attempts WHERE assignment_id = ? ORDER BY session_id NULLS FIRST, started_at, id',
      [assignment.id],
    );
    // Automatic grading's safety net: ended attempts without a run are graded now.
    if (task.rubric.criteria.length > 0) {
      const graded = new Set(
        (
          await this.#records.db.all<{ attempt_id: string }>(
            `SELECT DISTINCT r.attempt_id FROM grade_runs r JOIN attempts at ON at.id = r.attempt_id
             WHERE at.assignment_id = ?`,
            [assignment.id],
          )
        ).map((row) => row.attempt_id),
      );
      const due = attemptRows.filter((row) => row.ended_at !== null && !graded.has(row.id));
      if (due.length > 0) {
        await this.#runs.gradeBatch(
          due.map((row) => ({ id: row.id, sessionId: row.session_id })),
          'attempt-ended',
          null,
          true,
        );
      }
    }
    const runs = new Map<string, GradeRun>();
    for (const row of await this.#records.db.all<RunRow>(
      `SELECT r.* FROM grade_runs r JOIN attempts at ON at.id = r.attempt_id
       WHERE at.assignment_id = ?
         AND r.created_at = (SELECT MAX(r2.created_at) FROM grade_runs r2 WHERE r2.attempt_id = r.attempt_id)`,
      [assignment.id],
    )) {
      runs.set(row.attempt_id, toRun(row));
    }
    const overrides = new Map<string, GradeOverride[]>();
    for (const row of await this.#records.db.all<OverrideRow>(
      `${OVERRIDE_SELECT} JOIN attempts at ON at.id = o.attempt_id WHERE at.assignment_id = ?
       ORDER BY o.created_at DESC, o.id DESC`,
      [assignment.id],
    )) {
      const list = overrides.get(row.attempt_id) ?? [];
      list.push(toOverride(row));
      overrides.set(row.attempt_id, list);
    }
    const mentors = new Map<string, MentorScore>();
    for (const row of await this.#records.db.all<MentorRow>(
      `${MENTOR_SELECT} JOIN attempts at ON at.id = m.attempt_id WHERE at.assignment_id = ?`,
      [assignment.id],
    )) {
      mentors.set(row.attempt_id, toMentorScore(row));
    }
    return attemptRows.map((row) => {
      const run = runs.get(row.id) ?? null;
      const list = overrides.get(row.id) ?? [];
      const mentor = mentors.get(row.id) ?? null;
      return { attempt: toAttempt(row), run, overrides: list, mentor, ...gradeOf(task, run, list, mentor) };
    });
  }

  /** The students an assignment is for (targets still enrolled) and those with an attempt. */
  async #studentsOf(
    assignment: Assignment,
  ): Promise<{ id: string; displayName: string; studentNumber: string | null; username: string }[]> {
    return this.#records.db.all<{
      id: string;
      displayName: string;
      studentNumber: string | null;
      username: string;
    }>(
      `SELECT u.id, u.display_name AS "displayName", u.student_number AS "studentNumber", u.username
       FROM users u WHERE u.id IN (
         SELECT at.student_id FROM assignment_targets at
           JOIN class_members cm ON cm.user_id = at.student_id AND cm.class_id = ?
           WHERE at.assignment_id = ? AND at.student_id IS NOT NULL
         UNION
         SELECT tm.user_id FROM assignment_targets at JOIN team_members tm ON tm.team_id = at.team_id
           JOIN class_members cm ON cm.user_id = tm.user_id AND cm.class_id = ?
           WHERE at.assignment_id = ?
         UNION
         SELECT student_id FROM attempts WHERE assignment_id = ?)
       ORDER BY u.student_number NULLS FIRST, u.username`,
      [assignment.classId, assignment.id, assignment.classId, assignment.id, assignment.id],
    );
  }

  async #assignmentGrades(
    assignment: Assignment,
  ): Promise<{ grades: AssignmentGrades; attempts: AttemptData[]; counted: Map<string, AttemptData> }> {
    const task = await this.#records.task(assignment.taskId);
    if (!task)
      throw new ApiError(
        404,
        'TASK_NOT_FOUND',
        say(`no lab task ${assignment.taskId}`, `找不到实训任务 ${assignment.taskId}`),
      );
    const attempts = await this.#attemptsOf(assignment, task);
    const students = await this.#studentsOf(assignment);
    const teamRows = await this.#records.db.all<{ user_id: string; team_id: string; name: string }>(
      `SELECT tm.user_id, t.id AS team_id, t.name FROM teams t JOIN team_members tm ON tm.team_id = t.id
       WHERE t.class_id = ? ORDER BY t.name`,
      [assignment.classId],
    );
    const teamOf = new Map(teamRows.map((row) => [row.user_id, { id: row.team_id, name: row.name }]));
    const byStudent = new Map<string, AttemptData[]>();
    for (const data of attempts) {
      const list = byStudent.get(data.attempt.studentId) ?? [];
      list.push(data);
      byStudent.set(data.attempt.studentId, list);
    }
    const counted = new Map<string, AttemptData>();
    const rows: StudentGrade[] = students.map((student) => {
      const mine = byStudent.get(student.id) ?? [];
      // The best attempt: the highest final grade; the latest on a tie.
      let best: AttemptData | undefined;
      for (const data of mine) {
        if (data.final.score === null) continue;
        if (
          !best ||
          (data.final.score as number) > (best.final.score as number) ||
          (data.final.score === best.final.score && data.attempt.startedAt >= best.attempt.startedAt)
        ) {
          best = data;
        }
      }
      if (best) counted.set(student.id, best);
      const team = teamOf.get(student.id);
      return {
        studentId: student.id,
        studentNumber: student.studentNumber,
        displayName: student.displayName,
        teamId: team?.id ?? null,
        teamName: team?.name ?? null,
        attempts: mine.length,
        attemptId: best?.attempt.id ?? null,
        status: best ? best.final.status : mine.length > 0 ? 'not-graded' : 'no-attempt',
        autoScore: best?.final.autoScore ?? null,
        adjustments: best?.final.adjustments ?? [],
        adjustedScore: best?.final.adjustedScore ?? null,
        mentorScore: best?.final.mentorScore ?? null,
        score: best?.final.score ?? null,
        gradedAt: best?.run?.createdAt ?? null,
        criteria: Object.fromEntries((best?.criteria ?? []).map((c) => [c.id, c.score])),
      };
    });
    const teams = new Map<string, TeamGrade & { sum: number }>();
    for (const row of rows) {
      if (!row.teamId) continue;
      const team = teams.get(row.teamId) ?? {
        teamId: row.teamId,
        name: row.teamName ?? '',
        members: 0,
        graded: 0,
        score: null,
        provisional: false,
        sum: 0,
      };
      team.members++;
      if (row.score !== null) {
        team.graded++;
        team.sum += row.score;
        if (row.status === 'provisional') team.provisional = true;
      }
      teams.set(row.teamId, team);
    }
    const grades: AssignmentGrades = {
      assignment: {
        id: assignment.id,
        taskId: assignment.taskId,
        taskTitle: assignment.taskTitle,
        classId: assignment.classId,
        className: assignment.className,
        opensAt: assignment.opensAt,
        dueAt: assignment.dueAt,
      },
      mentorWeight: task.mentorWeight,
      policy: 'best',
      criteria: task.rubric.criteria.map((c) => ({
        id: c.id,
        title: localizedTitle(c.title, c.id),
        type: c.type,
        weight: c.weight,
      })),
      students: rows,
      teams: [...teams.values()]
        .map(({ sum, ...team }) => ({ ...team, score: team.graded > 0 ? round2(sum / team.graded) : null }))
        .sort((a, b) => naturalOrder(a.name, b.name)),
    };
    return { grades, attempts, counted };
  }

  /** GET /assignments/:id/grades: each student's grade (best attempt) and each team's mean. */
  async assignmentGrades(actor: Principal, assignmentId: string): Promise<AssignmentGrades> {
    const assignment = await this.assignmentForStaff(actor, assignmentId);
    return (await this.#assignmentGrades(assignment)).grades;
  }

  /** The grades of every assignment of a class, by due date (for the class export). */
  async classGrades(
    actor: Principal,
    classId: string,
  ): Promise<{ cls: ClassInfo; assignments: AssignmentGrades[] }> {
    const cls = await this.classForStaff(actor, classId);
    const out: AssignmentGrades[] = [];
    for (let offset = 0; ; offset += 200) {
      const { items, total } = await this.#records.assignments.listAssignments({
        classId,
        limit: 200,
        offset,
      });
      for (const assignment of items) out.push((await this.#assignmentGrades(assignment)).grades);
      if (offset + items.length >= total || items.length === 0) break;
    }
    return { cls, assignments: out };
  }

  /** GET /assignments/:id/statistics: per criterion, over the graded attempts (overrides applied). */
  async statistics(actor: Principal, assignmentId: string): Promise<AssignmentStatistics> {
    const assignment = await this.assignmentForStaff(actor, assignmentId);
    const { grades, attempts, counted } = await this.#assignmentGrades(assignment);
    const graded = attempts.filter((data) => data.run !== null);
    const stats = new Map<string, CriterionStatistics & { sum: number }>();
    const fresh = (c: {
      id: string;
      title: ReviewedCriterion['title'];
      type: string;
      weight: number;
    }): CriterionStatistics & { sum: number } => ({
      criterionId: c.id,
      title: c.title,
      type: c.type,
      weight: c.weight,
      attemptsGraded: 0,
      attemptsPassed: 0,
      passRate: 0,
      meanScore: 0,
      meanPercent: 0,
      studentsGraded: 0,
      studentsFailed: 0,
      sum: 0,
    });
    const entry = (c: ReviewedCriterion) => {
      let s = stats.get(c.id);
      if (!s) {
        s = fresh(c);
        stats.set(c.id, s);
      }
      return s;
    };
    // The current rubric's criteria first, in its order.
    for (const c of grades.criteria) stats.set(c.id, fresh(c));
    for (const data of graded) {
      for (const c of data.criteria) {
        const s = entry(c);
        s.attemptsGraded++;
        if (c.passed) s.attemptsPassed++;
        s.sum += c.weight > 0 ? c.score / c.weight : 0;
        s.meanScore += c.score;
      }
    }
    for (const data of counted.values()) {
      for (const c of data.criteria) {
        const s = entry(c);
        s.studentsGraded++;
        if (!c.passed) s.studentsFailed++;
      }
    }
    const criteria = [...stats.values()].map(({ sum, ...s }) => ({
      ...s,
      passRate: s.attemptsGraded ? round2((100 * s.attemptsPassed) / s.attemptsGraded) : 0,
      meanScore: s.attemptsGraded ? round2(s.meanScore / s.attemptsGraded) : 0,
      meanPercent: s.attemptsGraded ? round2((100 * sum) / s.attemptsGraded) : 0,
    }));
    let mostFailed: AssignmentStatistics['mostFailed'] = null;
    for (const s of criteria) {
      if (s.studentsFailed === 0) continue;
      if (
        !mostFailed ||
        s.studentsFailed > mostFailed.studentsFailed ||
        (s.studentsFailed === mostFailed.studentsFailed && s.passRate < mostFailed.passRate)
      ) {
        mostFailed = {
          criterionId: s.criterionId,
          title: s.title,
          studentsFailed: s.studentsFailed,
          passRate: s.passRate,
        };
      }
    }
    return {
      assignmentId: assignment.id,
      taskId: assignment.taskId,
      attemptsGraded: graded.length,
      studentsGraded: counted.size,
      criteria,
      mostFailed,
    };
  }
}
