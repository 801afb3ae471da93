-- Lookups the lab API makes on every "my assignments" and attempt start, and the rules the
-- API checks, also kept by the database: one running lab session per class, one running
-- attempt per student and assignment, a target listed once per assignment.
-- Portable SQL (partial indexes exist in SQLite and PostgreSQL alike).
CREATE INDEX assignment_targets_student ON assignment_targets (student_id);
CREATE INDEX assignment_targets_team ON assignment_targets (team_id);
CREATE UNIQUE INDEX assignment_targets_unique_team ON assignment_targets (assignment_id, team_id)
  WHERE team_id IS NOT NULL;
CREATE UNIQUE INDEX assignment_targets_unique_student ON assignment_targets (assignment_id, student_id)
  WHERE student_id IS NOT NULL;
CREATE UNIQUE INDEX lab_sessions_one_running ON lab_sessions (class_id) WHERE ended_at IS NULL;
CREATE INDEX attempts_session ON attempts (session_id);
CREATE INDEX attempts_kit ON attempts (kit_id);
CREATE UNIQUE INDEX attempts_one_running ON attempts (assignment_id, student_id) WHERE ended_at IS NULL;
CREATE INDEX teams_project ON teams (project_id);
CREATE INDEX classes_instructor ON classes (instructor_id);
