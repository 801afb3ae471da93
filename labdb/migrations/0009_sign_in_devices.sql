-- Devices a person signed in from (a long-lived cookie, stored hashed): sign-in limits that an
-- attacker's failures put on an address do not stop a person on a device they used before.
CREATE TABLE sign_in_devices (
  token_hash VARCHAR(64) PRIMARY KEY,
  user_id VARCHAR(36) NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  last_used_at BIGINT NOT NULL
);
CREATE INDEX sign_in_devices_user ON sign_in_devices (user_id);
CREATE INDEX sign_in_devices_last_used ON sign_in_devices (last_used_at);

-- Expired login tokens are purged; this finds them.
CREATE INDEX auth_tokens_expires ON auth_tokens (expires_at);
