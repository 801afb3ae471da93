-- 师资库 (mentor pool), enterprise projects, and lab tasks with their rubrics.
-- JSON columns hold arrays/objects as text; the API validates them.
CREATE TABLE mentor_profiles (
  user_id VARCHAR(36) PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  expertise TEXT NOT NULL DEFAULT '[]',          -- JSON array of skill tags
  availability VARCHAR(200) NOT NULL DEFAULT '', -- e.g. "Tue/Thu afternoons, 2026 autumn term"
  available INTEGER NOT NULL DEFAULT 1,
  dual_qualified INTEGER NOT NULL DEFAULT 0,     -- 双师型: teaching and industry qualification
  bio TEXT NOT NULL DEFAULT '',
  updated_at BIGINT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE projects (
  id VARCHAR(36) PRIMARY KEY,
  organisation_id VARCHAR(36) NOT NULL REFERENCES organisations (id),
  title VARCHAR(200) NOT NULL,
  background TEXT NOT NULL DEFAULT '',
  goals TEXT NOT NULL DEFAULT '',
  required_skills TEXT NOT NULL DEFAULT '[]',    -- JSON array of skill tags
  deliverables TEXT NOT NULL DEFAULT '',
  difficulty INTEGER NOT NULL CHECK (difficulty BETWEEN 1 AND 5),
  status VARCHAR(16) NOT NULL CHECK (status IN ('draft', 'published', 'archived')),
  created_by VARCHAR(36) NOT NULL REFERENCES users (id),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX projects_organisation ON projects (organisation_id);
CREATE INDEX projects_status ON projects (status);

CREATE TABLE lab_tasks (
  id VARCHAR(36) PRIMARY KEY,
  project_id VARCHAR(36) REFERENCES projects (id),
  title VARCHAR(200) NOT NULL,
  instructions TEXT NOT NULL DEFAULT '',         -- Markdown
  required_sensors TEXT NOT NULL DEFAULT '[]',   -- JSON array of sensor names
  required_actuators TEXT NOT NULL DEFAULT '[]', -- JSON array of actuator names
  skills TEXT NOT NULL DEFAULT '[]',             -- JSON array of skill tags the task exercises
  duration_minutes INTEGER NOT NULL,
  rubric TEXT NOT NULL,                          -- JSON: {criteria: [...]}, validated by the API
  mentor_weight INTEGER NOT NULL DEFAULT 0,      -- % of the grade from the enterprise mentor's score
  status VARCHAR(16) NOT NULL CHECK (status IN ('draft', 'published', 'archived')),
  created_by VARCHAR(36) NOT NULL REFERENCES users (id),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX lab_tasks_project ON lab_tasks (project_id);

-- Evidence of a student's skills (from graded work, once grading exists), used to recommend projects.
CREATE TABLE skill_evidence (
  user_id VARCHAR(36) NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  skill VARCHAR(64) NOT NULL,
  score REAL NOT NULL,                           -- 0..1
  source VARCHAR(100) NOT NULL,                  -- e.g. "task:<id>"
  at BIGINT NOT NULL,
  PRIMARY KEY (user_id, skill, source)
);
