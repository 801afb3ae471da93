-- Kits (ESP32, Arduino, Firmata boards) and the platform's own MQTT/HTTP service accounts.
-- Secrets are stored only as salted hashes. Times are ms since the Unix epoch.
-- Portable SQL: runs on SQLite and PostgreSQL alike.
CREATE TABLE kits (
  id VARCHAR(48) PRIMARY KEY,
  name VARCHAR(200) NOT NULL,
  kind VARCHAR(16) NOT NULL CHECK (kind IN ('esp32', 'arduino', 'firmata', 'other')),
  secret_hash VARCHAR(200),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  secret_issued_at BIGINT
);

CREATE TABLE service_accounts (
  name VARCHAR(48) PRIMARY KEY,
  description VARCHAR(200) NOT NULL DEFAULT '',
  secret_hash VARCHAR(200) NOT NULL,
  created_at BIGINT NOT NULL
);
