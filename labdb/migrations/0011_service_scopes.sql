-- What a service account may do (comma-separated): read, grade, publish, command, gateway. New
-- accounts can only read; accounts that existed before keep what they could do then (everything).
ALTER TABLE service_accounts ADD COLUMN scopes VARCHAR(200) NOT NULL DEFAULT 'read';
UPDATE service_accounts SET scopes = 'read,grade,publish,command,gateway';
