-- +goose Up
-- Purpose of access (issue 11, point 6): the purpose a staff member stated
-- before opening a customer's contact, remembered for that session and
-- contact for a few minutes (models/access_purpose.go). The audit entry of
-- each view carries the purpose; this table only spares asking again.
CREATE TABLE access_purposes (
    session_hash TEXT NOT NULL,
    contact_id   TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    reference    TEXT NOT NULL DEFAULT '',
    stated_at    TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (session_hash, contact_id)
);
CREATE INDEX access_purposes_expiry_idx ON access_purposes (expires_at);

-- +goose Down
DROP TABLE access_purposes;
