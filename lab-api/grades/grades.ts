/**
 * Grades of attempts: the grading engine (grading/) run over the telemetry store for an attempt's
 * window and kept as grade runs (every run stays: re-grading after a rubric change adds one), the
 * instructors' per-criterion overrides with their reason, the enterprise mentor's score, and the
 * final grade combining them; per assignment, the grade of each student and team, and per-criterion
 * statistics. This file puts the parts together; the parts:
 * - types.ts: the grade types; final-grade.ts: the arithmetic (overrides, adjustments, final grade);
 * - records.ts: the stored runs, overrides and mentor scores, and who may read an attempt's grade;
 * - runs.ts: grading runs, automatic grading and re-grading; review.ts: review, overrides, mentor
 *   scores; reports.ts: grades per assignment and class, statistics; export.ts: CSV and XLSX.
 *
 * Decisions:
 * - The final grade is `autoScore × (100 − mentorWeight) % + mentorScore × mentorWeight %`, where
 *   `autoScore` is the telemetry score out of 100 with the overrides applied. While a task with
 *   mentorWeight > 0 has no mentor score, the grade is *provisional* and the missing component
 *   counts as 0 (a lower bound: the grade never falls when the mentor scores).
 * - An override is for an attempt's criterion and applies on top of the latest run for as long as
 *   the criterion exists (a re-grade keeps it; it is capped to the criterion's weight if the
 *   weight shrank). The latest override of a criterion is the one applied; all are kept.
 * - A student's grade for an assignment is the one of their *best* attempt (highest final grade,
 *   the latest on a tie): trying again never costs a student points. A team's grade is the mean
 *   of its graded members' grades (members without a graded attempt are listed, not counted).
 * - Authenticity flags that cost no points are for the assessors: students see the criteria
 *   (scores, evidence, explanations), not the flags.
 * - Automatic grading when an attempt ends: the routes that end attempts report them to
 *   lab-api/auto-grading.ts, which calls `runs.attemptEnded` once the last readings are stored; its
 *   sweep (`gradeEndedAttempts`) and every read of a grade catch the attempts that ended otherwise.
 */
import type { LabDb } from '../../labdb/index.ts';
import type { TelemetryStore } from '../../telemetry/index.ts';
import { GradeRecords } from './records.ts';
import { GradeReports } from './reports.ts';
import { GradeReviews } from './review.ts';
import { GradingRuns } from './runs.ts';

/** The grade parts over one lab database and telemetry store. */
export class Grades {
  /** Grading attempts (on request, when they end, after a rubric change) and the runs kept. */
  readonly runs: GradingRuns;
  /** An attempt's grade: review, history, overrides, the enterprise mentor's score. */
  readonly reviews: GradeReviews;
  /** Grades per assignment and class, and per-criterion statistics. */
  readonly reports: GradeReports;

  constructor(deps: { db: LabDb; store: TelemetryStore }) {
    const records = new GradeRecords(deps.db);
    this.runs = new GradingRuns(records, deps.store);
    this.reviews = new GradeReviews(records, this.runs);
    this.reports = new GradeReports(records, this.runs);
  }
}
