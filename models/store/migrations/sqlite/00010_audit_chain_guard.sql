-- +goose Up
-- An inserted audit entry must continue the chain: its seq one past the
-- newest entry's, its prev_hash that entry's hash (the first entry: seq 1,
-- an empty prev_hash). A raw INSERT that skips, forks or re-links the
-- chain is refused here instead of being left for the next verification to
-- find. SQLite inserts the rows of one statement one by one and each
-- trigger sees the rows before it, so a transaction's entries still go in
-- with one statement. The lookups are one step of the primary key.
-- +goose StatementBegin
CREATE TRIGGER audit_events_continue_chain BEFORE INSERT ON audit_events
WHEN NEW.seq IS NOT coalesce((SELECT max(seq) FROM audit_events), 0) + 1
  OR NEW.prev_hash IS NOT coalesce((SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1), '')
BEGIN
    SELECT RAISE(ABORT, 'audit_events: an inserted entry must continue the chain (seq one past the newest entry, prev_hash its hash)');
END;
-- +goose StatementEnd

-- Signed checkpoints of the head (console audit checkpoint, and serve's
-- hourly one): a side table of the chain, so the audit page can show the
-- last one. The evidence is the signed line kept outside the database.
CREATE TABLE audit_checkpoints (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    seq       INTEGER NOT NULL,
    hash      TEXT NOT NULL,
    signed_at DATETIME NOT NULL,
    key_id    TEXT NOT NULL,
    signature TEXT NOT NULL
);

-- +goose Down
DROP TABLE audit_checkpoints;
DROP TRIGGER audit_events_continue_chain;
