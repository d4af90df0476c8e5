-- +goose Up
-- An inserted audit entry must continue the chain: its seq one past the
-- newest entry's, its prev_hash that entry's hash (the first entry: seq 1,
-- an empty prev_hash). appendAudit holds the head's row lock while it
-- inserts, so the newest entry is the one it chained to; a raw INSERT that
-- skips, forks or re-links the chain is refused here instead of being left
-- for the next verification to find. Rows of one multi-row INSERT see the
-- rows before them (PostgreSQL runs row triggers in order and each sees
-- the rows the same statement inserted before it), so a transaction's
-- entries still go in with one statement. The lookup is one backward step
-- of the primary key's index.
-- +goose StatementBegin
CREATE FUNCTION audit_events_continue_chain() RETURNS trigger AS $$
DECLARE
    last_seq  BIGINT := 0;
    last_hash TEXT := '';
BEGIN
    SELECT seq, hash INTO last_seq, last_hash FROM audit_events ORDER BY seq DESC LIMIT 1;
    IF NOT FOUND THEN
        last_seq := 0;
        last_hash := '';
    END IF;
    IF NEW.seq IS DISTINCT FROM last_seq + 1 THEN
        RAISE EXCEPTION 'audit_events: entry % does not continue the chain: the next entry is %', NEW.seq, last_seq + 1;
    END IF;
    IF NEW.prev_hash IS DISTINCT FROM last_hash THEN
        RAISE EXCEPTION 'audit_events: entry % does not link to entry %: its prev_hash is not that entry''s hash', NEW.seq, last_seq;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

CREATE TRIGGER audit_events_continue_chain BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_continue_chain();

-- Signed checkpoints of the head (console audit checkpoint, and serve's
-- hourly one): a side table of the chain, so the audit page can show the
-- last one. The evidence is the signed line kept outside the database.
CREATE TABLE audit_checkpoints (
    id        BIGSERIAL PRIMARY KEY,
    seq       BIGINT NOT NULL,
    hash      TEXT NOT NULL,
    signed_at TIMESTAMPTZ NOT NULL,
    key_id    TEXT NOT NULL,
    signature TEXT NOT NULL
);

-- +goose Down
DROP TABLE audit_checkpoints;
DROP TRIGGER audit_events_continue_chain ON audit_events;
DROP FUNCTION audit_events_continue_chain();
