-- +goose Up
-- Self-service password reset (issue 12, point 11): a single-use link,
-- valid one hour, mailed through the outbox. Only a SHA-256 of the token
-- is stored, as for sessions and invitations.
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id    UUID NOT NULL REFERENCES users(id),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX password_resets_user ON password_resets (user_id);

-- +goose Down
DROP INDEX password_resets_user;
DROP TABLE password_resets;
