-- +goose Up
-- An authorized agent's or a parent's proof of authority (issue 9, item 2):
-- the uploaded file, sealed with the console's keyring, and the check staff
-- recorded. When the request closes the file, its name and type are
-- cleared (deleted_at set); what stays is what kind of proof it was and who
-- checked it, when, with what outcome.
CREATE TABLE request_proofs (
    id            TEXT PRIMARY KEY,
    request_id    TEXT NOT NULL REFERENCES privacy_requests(id),
    kind          TEXT NOT NULL,
    file_name     TEXT NOT NULL DEFAULT '',
    content_type  TEXT NOT NULL DEFAULT '',
    size          INTEGER NOT NULL DEFAULT 0,
    data          TEXT NOT NULL DEFAULT '',
    uploaded_by   TEXT NOT NULL,
    uploaded_at   DATETIME NOT NULL,
    checked_by    TEXT NOT NULL DEFAULT '',
    checked_at    DATETIME,
    check_outcome TEXT NOT NULL DEFAULT '',
    check_note    TEXT NOT NULL DEFAULT '',
    deleted_at    DATETIME
);
CREATE INDEX request_proofs_request_idx ON request_proofs (request_id);

-- Staff may let an agent's or parent's request proceed without a checked
-- proof only with a recorded reason.
ALTER TABLE privacy_requests ADD COLUMN proof_override TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE privacy_requests DROP COLUMN proof_override;
DROP TABLE request_proofs;
