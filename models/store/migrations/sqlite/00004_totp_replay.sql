-- +goose Up
-- The last TOTP time step accepted for each user: a code is accepted once
-- (NIST SP 800-63B 5.1.4.2), so a replayed code fails.
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE users DROP COLUMN totp_last_step;
