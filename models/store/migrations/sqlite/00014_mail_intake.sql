-- +goose Up
-- A message whose subject names a request its sender is no party to
-- opens a request of its own; the reference it named is kept here, so the
-- new request's page can say "mentions PR-…".
ALTER TABLE inbound_mail ADD COLUMN mentions_reference TEXT NOT NULL DEFAULT '';

-- Requests staff found to be duplicates of another. The duplicate keeps
-- its status and timeline (it is not withdrawn: the requester withdrew
-- nothing); the §7102 metrics and the deadline board count only the
-- request it was merged into.
CREATE TABLE request_duplicates (
    request_id   TEXT PRIMARY KEY REFERENCES privacy_requests(id),
    duplicate_of TEXT NOT NULL REFERENCES privacy_requests(id),
    merged_at    DATETIME NOT NULL,
    merged_by    TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX request_duplicates_of_idx ON request_duplicates (duplicate_of);

-- Who marked a held or failed mail as sent by hand (copied into another
-- mail program); empty for mail the sender handed to the SMTP server.
ALTER TABLE outbox ADD COLUMN marked_sent_by TEXT NOT NULL DEFAULT '';
-- At most one acknowledgement an hour goes to one address: the check
-- looks up the newest by address.
CREATE INDEX outbox_to_kind_idx ON outbox (to_addr, kind, created_at);

-- Phones and emails found in a request mail's text, proposed to staff as
-- subject identifiers; each is accepted (added, unverified) or dismissed
-- one by one.
CREATE TABLE request_identifier_proposals (
    request_id TEXT NOT NULL REFERENCES privacy_requests(id),
    value      TEXT NOT NULL,
    kind       TEXT NOT NULL,
    mail_id    TEXT NOT NULL,
    status     TEXT NOT NULL DEFAULT 'proposed',
    decided_by TEXT NOT NULL DEFAULT '',
    decided_at DATETIME,
    PRIMARY KEY (request_id, value)
);

-- +goose Down
DROP TABLE request_identifier_proposals;
DROP INDEX outbox_to_kind_idx;
ALTER TABLE outbox DROP COLUMN marked_sent_by;
DROP TABLE request_duplicates;
ALTER TABLE inbound_mail DROP COLUMN mentions_reference;
