/** The API answers the dashboards read (the parts they use; the OpenAPI document has them all). */

export type Localized = { 'zh-CN': string; en: string };

export interface Page<T> {
  items: T[];
  total: number;
}

export interface Kit {
  id: string;
  name: string;
  kind: string;
  active: boolean;
  sensors: string[];
  binding: { kitId: string; studentId: string | null; teamId: string | null } | null;
  connection: { online: boolean; lastSeen: number | null; refused: number; messages: number } | null;
}

export interface KitDetail extends Kit {
  latest: Record<string, { ts: number; value: number; unit: string | null }>;
}

export interface Telemetry {
  kitId: string;
  sensor: string;
  unit: string | null;
  points?: { ts: number; value: number }[];
  windows?: { ts: number; mean: number; min: number; max: number; count: number }[];
}

export interface TelemetryMessage {
  ts?: number | string;
  seq?: number;
  readings?: Record<string, unknown>;
}

export interface KitErrorMessage {
  code: string;
  severity: string;
  message: string;
  topic?: string;
  ts?: number;
  repeated?: number;
  sensor?: string;
}

export interface ClassInfo {
  id: string;
  name: string;
  term: string;
  instructorName: string | null;
  studentCount: number;
  teamCount: number;
  version: number;
}

export interface MyClass extends ClassInfo {
  activeSession?: { id: string; assignmentId: string | null; startedAt: number } | null;
}

export interface Assignment {
  id: string;
  taskId: string;
  taskTitle: string;
  classId: string;
  className: string;
  opensAt: number;
  dueAt: number;
  status: 'upcoming' | 'open' | 'closed';
}

export interface Attempt {
  id: string;
  assignmentId: string;
  sessionId: string | null;
  studentId: string;
  teamId: string | null;
  kitId: string;
  startedAt: number;
  endedAt: number | null;
}

export interface LiveCriterion {
  id: string;
  type: string;
  title: Localized;
  weight: number;
  /** 0 while pending. */
  score: number;
  passed: boolean;
  /**
   * Not enough data to judge it yet: neither passed nor failed (shown neutral, "等待中");
   * absent from states published before live grading had it.
   */
  pending?: boolean;
  /** The sentence for the score and state, from the same evaluation. */
  explanation: Localized;
  /** What a pending criterion waits for ("需要 30 分钟的数据，已有 2 分钟"), else null. */
  waitingFor?: Localized | null;
  measured: Record<string, number>;
}

export interface LiveGrading {
  attemptId: string;
  kitId: string;
  seq: number;
  score: number;
  maxScore: number;
  passed: boolean;
  timeToPassSeconds: number | null;
  ended: boolean;
  lastReadingAt: number | null;
  criteria: LiveCriterion[];
}

export interface Span {
  from: number;
  to: number;
  ok: boolean;
  note?: string;
}

export interface Evidence {
  measured: Record<string, number | null>;
  /** The numbers as sentences with units (grades made before it have none). */
  summary?: Localized;
  spans: Span[];
}

export interface Override {
  id: string;
  criterionId: string;
  score: number;
  reason: string;
  createdByName: string | null;
  createdAt: number;
}

/** An instructor's change to a criterion (what, who, why). */
export interface Adjustment {
  criterionId: string;
  title: Localized;
  weight: number;
  autoScore: number;
  score: number;
  reason: string;
  by: string;
  byName: string | null;
  at: number;
}

export interface GradeCriterion {
  id: string;
  title: Localized;
  type: string;
  weight: number;
  score: number;
  passed: boolean;
  autoScore: number;
  autoPassed: boolean;
  evidence: Evidence;
  explanation: Localized;
  override: Override | null;
}

/** A running attempt's live grading so far, as its review shows it. */
export interface LiveReview {
  evaluatedAt: number;
  lastReadingAt: number | null;
  score: number;
  maxScore: number;
  passed: boolean;
  criteria: {
    id: string;
    type: string;
    title: Localized | string;
    weight: number;
    score: number;
    passed: boolean;
    pending: boolean;
    explanation: Localized;
    waitingFor: Localized | null;
  }[];
}

export interface AttemptGrade {
  /** While the attempt runs: its live grading so far (null when none runs). */
  live?: LiveReview | null;
  attempt: Attempt;
  task: { id: string; title: string; mentorWeight: number };
  classId: string;
  run: { id: string; autoScore: number; createdAt: number; window: { from: number; to: number } } | null;
  outdated: boolean;
  criteria: GradeCriterion[];
  flags: { kind: string; sensor: string; explanation: Localized; evidence: Evidence }[];
  overrides: Override[];
  mentorScore: { score: number; comment: string; mentorName: string | null; version: number } | null;
  final: {
    status: 'not-graded' | 'provisional' | 'final';
    /** What the telemetry earned, before anyone changed anything. */
    autoScore: number | null;
    adjustments: Adjustment[];
    /** The auto score with the adjustments applied. */
    adjustedScore: number | null;
    mentorWeight: number;
    mentorScore: number | null;
    score: number | null;
    explanation: Localized;
  };
}

export interface Task {
  id: string;
  projectId: string | null;
  title: string;
  instructions: string;
  requiredSensors: string[];
  requiredActuators: string[];
  durationMinutes: number;
  mentorWeight: number;
  status: string;
  version: number;
  rubric: { criteria: RubricCriterion[] };
}

export interface RubricCriterion {
  id: string;
  title: Localized;
  weight: number;
  partialCredit: boolean;
  type: string;
  params?: Record<string, unknown>;
}

export interface Project {
  id: string;
  title: string;
  background: string;
  status: string;
  difficulty: number;
  requiredSkills: string[];
  organisationName?: string | null;
  version: number;
}

export interface Team {
  id: string;
  classId: string;
  className: string;
  name: string;
  projectId: string | null;
  projectTitle: string | null;
  members: { id: string; displayName: string; studentNumber: string | null }[];
}

export interface RosterStudent {
  id: string;
  username: string;
  displayName: string;
  studentNumber: string | null;
  teamId: string | null;
  teamName: string | null;
}

export interface Leaderboard {
  sessionId: string;
  classId: string;
  taskTitle: string;
  running: boolean;
  startedAt: number;
  endedAt: number | null;
  generatedAt: number;
  maxScore: number;
  criteria: { id: string; title: Localized; weight: number }[];
  teams: {
    rank: number;
    teamId: string;
    teamName: string;
    attemptId: string | null;
    score: number;
    maxScore: number;
    passed: boolean;
    timeToPassSeconds: number | null;
    criteria: { id: string; passed: boolean }[];
  }[];
}

export interface BoardKit {
  kitId: string;
  name: string;
  teamId: string | null;
  teamName: string | null;
  students: { id: string; displayName: string }[];
  online: boolean;
  lastSeen: number | null;
  messages: number;
  refused: number;
  sensors: string[];
  latest: Record<string, { ts: number; value: number }>;
  units: Record<string, string | null>;
  history: Record<string, [number, number][]>;
  attempt: { id: string; studentId: string; studentName: string; startedAt: number } | null;
}

export interface Board {
  classId: string;
  className: string;
  generatedAt: number;
  from: number;
  session: { id: string; assignmentId: string | null; startedAt: number; taskTitle: string | null } | null;
  assignments: { id: string; taskTitle: string; status: string }[];
  kits: BoardKit[];
}

export interface MentorAttempt {
  attemptId: string;
  taskTitle: string;
  projectTitle: string;
  mentorWeight: number;
  className: string;
  teamName: string | null;
  studentName: string;
  studentNumber: string | null;
  kitId: string;
  startedAt: number;
  endedAt: number | null;
  mentorScore: number | null;
}
