-- +goose Up
-- Writing to the requester from the request (issue 9, point 7).
-- request_status_links: the secret links to a request's status page put in
-- every mail to its requester; only the token's SHA-256 is stored.
CREATE TABLE request_status_links (
    token_hash TEXT PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES privacy_requests(id),
    created_at DATETIME NOT NULL,
    expires_at DATETIME NOT NULL
);
CREATE INDEX request_status_links_request_idx ON request_status_links (request_id);

-- request_messages: what staff wrote to the requester (direction out, the
-- outbox mail it was queued as) and what the requester answered from the
-- status page (direction in).
CREATE TABLE request_messages (
    id          TEXT PRIMARY KEY,
    request_id  TEXT NOT NULL REFERENCES privacy_requests(id),
    direction   TEXT NOT NULL,
    template    TEXT NOT NULL DEFAULT '',
    subject     TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL,
    author      TEXT NOT NULL,
    outbox_id   TEXT,
    created_at  DATETIME NOT NULL
);
CREATE INDEX request_messages_request_idx ON request_messages (request_id, created_at);

-- request_message_files: a message's attachments, sealed with the keyring.
CREATE TABLE request_message_files (
    id           TEXT PRIMARY KEY,
    message_id   TEXT NOT NULL REFERENCES request_messages(id),
    request_id   TEXT NOT NULL REFERENCES privacy_requests(id),
    file_name    TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    data         TEXT NOT NULL,
    created_at   DATETIME NOT NULL
);
CREATE INDEX request_message_files_message_idx ON request_message_files (message_id);

-- +goose Down
DROP TABLE request_message_files;
DROP TABLE request_messages;
DROP TABLE request_status_links;
