-- +goose Up
-- Privacy requests (DESIGN §2-§4). Deadlines are civil dates (YYYY-MM-DD)
-- in the business time zone.
CREATE TABLE privacy_requests (
    id                  TEXT PRIMARY KEY,
    reference           TEXT NOT NULL UNIQUE,
    type                TEXT,
    suggested_type      TEXT NOT NULL DEFAULT '',
    regime              TEXT NOT NULL,
    channel             TEXT NOT NULL,
    status              TEXT NOT NULL,
    requester_name      TEXT NOT NULL DEFAULT '',
    requester_email     TEXT NOT NULL DEFAULT '',
    requester_phone     TEXT NOT NULL DEFAULT '',
    relationship        TEXT NOT NULL DEFAULT 'end_user',
    proof               TEXT NOT NULL DEFAULT '',
    subject_identifiers TEXT NOT NULL DEFAULT '[]',
    customer_id         TEXT REFERENCES customers(id),
    assignee_id         TEXT REFERENCES users(id),
    details             TEXT NOT NULL DEFAULT '',
    received_at         DATETIME NOT NULL,
    verified_at         DATETIME,
    verification_method TEXT NOT NULL DEFAULT '',
    verification_note   TEXT NOT NULL DEFAULT '',
    ack_due_on          TEXT,
    due_on              TEXT NOT NULL,
    extended_to         TEXT,
    extension_reason    TEXT NOT NULL DEFAULT '',
    extension_notice_at DATETIME,
    completed_at        DATETIME,
    outcome             TEXT NOT NULL DEFAULT '',
    denial_reason       TEXT NOT NULL DEFAULT '',
    created_at          DATETIME NOT NULL,
    updated_at          DATETIME NOT NULL
);
CREATE INDEX privacy_requests_status_idx ON privacy_requests (status, due_on);
CREATE INDEX privacy_requests_email_idx ON privacy_requests (requester_email, received_at);
CREATE INDEX privacy_requests_received_idx ON privacy_requests (received_at);

-- Reference numbers, one counter per year.
CREATE TABLE request_counters (
    year INTEGER PRIMARY KEY,
    last BIGINT NOT NULL
);

-- Normalized subject identifiers, for lookups by email or phone.
CREATE TABLE request_identifiers (
    request_id TEXT NOT NULL REFERENCES privacy_requests(id),
    value      TEXT NOT NULL,
    PRIMARY KEY (request_id, value)
);
CREATE INDEX request_identifiers_value_idx ON request_identifiers (value);

-- The timeline of every request: notes, status changes, mail, routing, fulfilment.
CREATE TABLE request_events (
    request_id  TEXT NOT NULL REFERENCES privacy_requests(id),
    id          TEXT NOT NULL,
    at          DATETIME NOT NULL,
    actor_type  TEXT NOT NULL,
    actor_label TEXT NOT NULL DEFAULT '',
    kind        TEXT NOT NULL,
    text        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (request_id, id)
);

-- One task per controller (customer) holding the person.
CREATE TABLE routed_tasks (
    customer_id  TEXT NOT NULL REFERENCES customers(id),
    id           TEXT NOT NULL,
    request_id   TEXT NOT NULL REFERENCES privacy_requests(id),
    contact_ids  TEXT NOT NULL DEFAULT '[]',
    status       TEXT NOT NULL,
    due_on       TEXT NOT NULL,
    routed_at    DATETIME NOT NULL,
    answered_at  DATETIME,
    answered_by  TEXT NOT NULL DEFAULT '',
    decision     TEXT NOT NULL DEFAULT '',
    reason       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (customer_id, id)
);
CREATE UNIQUE INDEX routed_tasks_id_idx ON routed_tasks (id);
CREATE INDEX routed_tasks_request_idx ON routed_tasks (request_id);
CREATE INDEX routed_tasks_open_idx ON routed_tasks (customer_id, status, due_on);

-- Single-use email verification links.
CREATE TABLE request_verifications (
    token_hash TEXT PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES privacy_requests(id),
    expires_at DATETIME NOT NULL,
    used_at    DATETIME
);

-- +goose Down
DROP TABLE request_verifications;
DROP TABLE routed_tasks;
DROP TABLE request_events;
DROP TABLE request_identifiers;
DROP TABLE request_counters;
DROP TABLE privacy_requests;
