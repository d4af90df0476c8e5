-- +goose Up
-- TOTP secrets and the server secret are sealed from this version on with
-- a key outside the database (CONSOLE_SECRET_KEY); the values still in
-- clear are sealed by a Go step every command runs after migrating
-- (models.DB.SealSecrets), since SQL has no access to that key.

-- Sign-in throttles (models/throttle.go): consecutive failures per account,
-- per client address and per account's second factor, and when the next
-- attempt may come. They replace the sliding window of login_failures,
-- which locked an account outright.
CREATE TABLE auth_throttle (
    key             TEXT PRIMARY KEY,
    failures        INTEGER NOT NULL DEFAULT 0,
    last_failure_at DATETIME NOT NULL,
    next_at         DATETIME NOT NULL
);
CREATE INDEX auth_throttle_last_failure_idx ON auth_throttle (last_failure_at);
DROP TABLE login_failures;

-- When the outbox's latest attempt began: recorded with the Message-ID
-- before the mail is handed to the server (models.StartMailAttempt).
ALTER TABLE outbox ADD COLUMN last_attempt_at DATETIME;

-- A customer admin may require two-step sign-in of every user of the
-- customer (models.SetRequireMFA).
ALTER TABLE customers ADD COLUMN require_mfa BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE customers DROP COLUMN require_mfa;ALTER TABLE outbox DROP COLUMN last_attempt_at;
CREATE TABLE login_failures (
    id    INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL,
    ip    TEXT NOT NULL,
    at    DATETIME NOT NULL
);
CREATE INDEX login_failures_email_idx ON login_failures (email, at);
CREATE INDEX login_failures_ip_idx ON login_failures (ip, at);
DROP TABLE auth_throttle;
