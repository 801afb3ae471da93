-- People and organisations: the college and partner enterprises, users with one role each,
-- login tokens (stored hashed), and the audit log of every change.
CREATE TABLE organisations (
  id VARCHAR(36) PRIMARY KEY,
  kind VARCHAR(16) NOT NULL CHECK (kind IN ('college', 'enterprise')),
  name VARCHAR(200) NOT NULL UNIQUE,
  name_en VARCHAR(200) NOT NULL DEFAULT '',
  industry VARCHAR(100) NOT NULL DEFAULT '',
  description TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE users (
  id VARCHAR(36) PRIMARY KEY,
  username VARCHAR(64) NOT NULL UNIQUE,
  display_name VARCHAR(100) NOT NULL,
  role VARCHAR(16) NOT NULL CHECK (role IN ('admin', 'instructor', 'mentor', 'student')),
  organisation_id VARCHAR(36) REFERENCES organisations (id),
  -- 学号 for students
  student_number VARCHAR(32) UNIQUE,
  email VARCHAR(200) NOT NULL DEFAULT '',
  password_hash VARCHAR(300) NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX users_role ON users (role);
CREATE INDEX users_organisation ON users (organisation_id);

CREATE TABLE auth_tokens (
  token_hash VARCHAR(64) PRIMARY KEY,
  user_id VARCHAR(36) NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX auth_tokens_user ON auth_tokens (user_id);

CREATE TABLE audit_log (
  id VARCHAR(36) PRIMARY KEY,
  at BIGINT NOT NULL,
  actor_kind VARCHAR(16) NOT NULL,
  actor_id VARCHAR(64) NOT NULL,
  actor_role VARCHAR(16) NOT NULL DEFAULT '',
  entity VARCHAR(32) NOT NULL,
  entity_id VARCHAR(64) NOT NULL,
  action VARCHAR(32) NOT NULL,
  before_json TEXT,
  after_json TEXT
);
CREATE INDEX audit_entity ON audit_log (entity, entity_id, at);
CREATE INDEX audit_at ON audit_log (at);
