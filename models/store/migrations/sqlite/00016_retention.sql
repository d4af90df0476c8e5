-- +goose Up
-- Retention (issue 13, items 1 and 2): how long each category of data is kept
-- (and how long a cancelled customer may come back),
-- holds that stop the sweeper for a whole customer or one request, the
-- record of requests whose personal details the sweeper removed, and the
-- single row that lets one sweeper at a time run across instances.

-- One rule per category; staff admins change the days (audited). The
-- audit log and the suppression list have no rule: they are never swept.
CREATE TABLE retention_rules (
    category   TEXT PRIMARY KEY,
    days       INTEGER NOT NULL CHECK (days > 0),
    updated_at DATETIME NOT NULL,
    updated_by TEXT NOT NULL DEFAULT ''
);
INSERT INTO retention_rules (category, days, updated_at, updated_by) VALUES
('communications', 730, CURRENT_TIMESTAMP, 'migration'),
('inbound_mail', 730, CURRENT_TIMESTAMP, 'migration'),
('outbox_bodies', 365, CURRENT_TIMESTAMP, 'migration'),
('closed_requests', 730, CURRENT_TIMESTAMP, 'migration'),
('import_files', 30, CURRENT_TIMESTAMP, 'migration'),
('bundles', 7, CURRENT_TIMESTAMP, 'migration'),
('sessions', 30, CURRENT_TIMESTAMP, 'migration'),
('cancelled_accounts', 30, CURRENT_TIMESTAMP, 'migration');

-- A hold on a whole customer or on one request (holds on a contact or an
-- identifier are legal_holds). Exactly one of the two is set.
CREATE TABLE retention_holds (
    id          TEXT PRIMARY KEY,
    customer_id TEXT REFERENCES customers(id),
    request_id  TEXT REFERENCES privacy_requests(id),
    reason      TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  DATETIME NOT NULL,
    released_at DATETIME,
    released_by TEXT NOT NULL DEFAULT '',
    CHECK ((customer_id IS NULL) <> (request_id IS NULL))
);
CREATE INDEX retention_holds_customer_idx ON retention_holds (customer_id) WHERE released_at IS NULL;
CREATE INDEX retention_holds_request_idx ON retention_holds (request_id) WHERE released_at IS NULL;

-- Closed requests whose requester details, identifiers, timeline and mail
-- the sweeper removed; the row itself (reference, type, dates, outcome)
-- stays for the yearly metrics.
CREATE TABLE swept_requests (
    request_id TEXT PRIMARY KEY REFERENCES privacy_requests(id),
    swept_at   DATETIME NOT NULL
);

-- The sweeper's lease: an instance runs a sweep only while it holds it.
CREATE TABLE retention_lock (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    holder      TEXT NOT NULL DEFAULT '',
    lease_until DATETIME NOT NULL
);
INSERT INTO retention_lock (id, holder, lease_until) VALUES (1, '', '1970-01-01 00:00:00');

-- One row per finished sweep, for the page: when, by whom, what went.
CREATE TABLE retention_runs (
    id          TEXT PRIMARY KEY,
    runner      TEXT NOT NULL,
    started_at  DATETIME NOT NULL,
    finished_at DATETIME NOT NULL,
    removed     BIGINT NOT NULL,
    counts      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX retention_runs_finished_idx ON retention_runs (finished_at);

-- A closed customer's suppression list: a keyed hash (as in
-- erased_identifiers) of every identifier that was opted out or restricted
-- when the account's data was deleted, so the opt-outs can still be proven
-- and hold if the business comes back.
CREATE TABLE closed_suppressions (
    customer_id TEXT NOT NULL REFERENCES customers(id),
    hash        TEXT NOT NULL,
    reason      TEXT NOT NULL,
    since       DATETIME NOT NULL,
    PRIMARY KEY (customer_id, hash)
);

-- +goose Down
DROP TABLE closed_suppressions;
DROP TABLE retention_runs;
DROP TABLE retention_lock;
DROP TABLE swept_requests;
DROP TABLE retention_holds;
DROP TABLE retention_rules;
