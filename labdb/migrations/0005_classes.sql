-- Classes, teams, enrolment; kits bound to students or teams; assignments, lab sessions, attempts.
CREATE TABLE classes (
  id VARCHAR(36) PRIMARY KEY,
  name VARCHAR(100) NOT NULL UNIQUE,             -- e.g. 物联网2401
  term VARCHAR(40) NOT NULL DEFAULT '',
  instructor_id VARCHAR(36) REFERENCES users (id),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE class_members (
  class_id VARCHAR(36) NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
  user_id VARCHAR(36) NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  PRIMARY KEY (class_id, user_id)
);
CREATE INDEX class_members_user ON class_members (user_id);

CREATE TABLE teams (
  id VARCHAR(36) PRIMARY KEY,
  class_id VARCHAR(36) NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
  name VARCHAR(100) NOT NULL,
  project_id VARCHAR(36) REFERENCES projects (id),  -- the enterprise project the team works on
  created_at BIGINT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  UNIQUE (class_id, name)
);

CREATE TABLE team_members (
  team_id VARCHAR(36) NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
  user_id VARCHAR(36) NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);

ALTER TABLE kits ADD COLUMN sensors TEXT NOT NULL DEFAULT '[]';  -- JSON array of sensor/actuator names

CREATE TABLE kit_bindings (
  kit_id VARCHAR(48) PRIMARY KEY REFERENCES kits (id) ON DELETE CASCADE,
  student_id VARCHAR(36) REFERENCES users (id) ON DELETE CASCADE,
  team_id VARCHAR(36) REFERENCES teams (id) ON DELETE CASCADE,
  bound_by VARCHAR(36) NOT NULL,
  bound_at BIGINT NOT NULL,
  CHECK ((student_id IS NULL) <> (team_id IS NULL))
);
CREATE INDEX kit_bindings_student ON kit_bindings (student_id);
CREATE INDEX kit_bindings_team ON kit_bindings (team_id);

CREATE TABLE assignments (
  id VARCHAR(36) PRIMARY KEY,
  task_id VARCHAR(36) NOT NULL REFERENCES lab_tasks (id),
  class_id VARCHAR(36) NOT NULL REFERENCES classes (id),
  opens_at BIGINT NOT NULL,
  due_at BIGINT NOT NULL,
  created_by VARCHAR(36) NOT NULL REFERENCES users (id),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX assignments_class ON assignments (class_id);

-- Whom an assignment is for: whole teams or single students of the class.
CREATE TABLE assignment_targets (
  assignment_id VARCHAR(36) NOT NULL REFERENCES assignments (id) ON DELETE CASCADE,
  team_id VARCHAR(36) REFERENCES teams (id) ON DELETE CASCADE,
  student_id VARCHAR(36) REFERENCES users (id) ON DELETE CASCADE,
  CHECK ((student_id IS NULL) <> (team_id IS NULL))
);
CREATE INDEX assignment_targets_assignment ON assignment_targets (assignment_id);

CREATE TABLE lab_sessions (
  id VARCHAR(36) PRIMARY KEY,
  class_id VARCHAR(36) NOT NULL REFERENCES classes (id),
  assignment_id VARCHAR(36) REFERENCES assignments (id),
  started_by VARCHAR(36) NOT NULL REFERENCES users (id),
  started_at BIGINT NOT NULL,
  ended_at BIGINT
);
CREATE INDEX lab_sessions_class ON lab_sessions (class_id);

-- A student's attempt: a time window on their bound kit, which grading evaluates.
CREATE TABLE attempts (
  id VARCHAR(36) PRIMARY KEY,
  assignment_id VARCHAR(36) NOT NULL REFERENCES assignments (id),
  session_id VARCHAR(36) REFERENCES lab_sessions (id),
  student_id VARCHAR(36) NOT NULL REFERENCES users (id),
  team_id VARCHAR(36) REFERENCES teams (id),
  kit_id VARCHAR(48) NOT NULL REFERENCES kits (id),
  started_at BIGINT NOT NULL,
  ended_at BIGINT
);
CREATE INDEX attempts_assignment ON attempts (assignment_id);
CREATE INDEX attempts_student ON attempts (student_id);
