-- Grades of attempts: every evaluation kept (re-grading after a rubric change adds a new one),
-- instructors' per-criterion overrides with their reason, and the enterprise mentor's score.
CREATE TABLE grade_runs (
  id VARCHAR(36) PRIMARY KEY,
  attempt_id VARCHAR(36) NOT NULL REFERENCES attempts (id) ON DELETE CASCADE,
  task_version INTEGER NOT NULL,               -- the lab task (rubric) version it was graded with
  reason VARCHAR(32) NOT NULL,                 -- 'attempt-ended', 'manual', 'rubric-changed'
  result TEXT NOT NULL,                        -- JSON GradeResult from the engine (evidence included)
  auto_score REAL NOT NULL,                    -- points out of 100 from telemetry
  created_at BIGINT NOT NULL,
  created_by VARCHAR(64) NOT NULL
);
CREATE INDEX grade_runs_attempt ON grade_runs (attempt_id, created_at);

CREATE TABLE grade_overrides (
  id VARCHAR(36) PRIMARY KEY,
  attempt_id VARCHAR(36) NOT NULL REFERENCES attempts (id) ON DELETE CASCADE,
  criterion_id VARCHAR(64) NOT NULL,
  score REAL NOT NULL,
  reason TEXT NOT NULL,
  created_by VARCHAR(36) NOT NULL REFERENCES users (id),
  created_at BIGINT NOT NULL
);
CREATE INDEX grade_overrides_attempt ON grade_overrides (attempt_id, criterion_id, created_at);

CREATE TABLE mentor_scores (
  attempt_id VARCHAR(36) PRIMARY KEY REFERENCES attempts (id) ON DELETE CASCADE,
  score REAL NOT NULL CHECK (score >= 0 AND score <= 100),
  comment TEXT NOT NULL DEFAULT '',
  mentor_id VARCHAR(36) NOT NULL REFERENCES users (id),
  updated_at BIGINT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1
);
