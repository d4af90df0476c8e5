-- +goose Up
-- Contacts of each customer (the controller's data). Keys lead with
-- customer_id so the schema can be distributed by customer.
CREATE TABLE contacts (
    customer_id   UUID NOT NULL REFERENCES customers(id),
    id            UUID NOT NULL,
    name          TEXT NOT NULL DEFAULT '',
    name_key      TEXT NOT NULL DEFAULT '',
    crm_id        TEXT NOT NULL DEFAULT '',
    restricted    BOOLEAN NOT NULL DEFAULT FALSE,
    suppressed    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    anonymized_at TIMESTAMPTZ,
    PRIMARY KEY (customer_id, id)
);
CREATE UNIQUE INDEX contacts_id_idx ON contacts (id);
CREATE INDEX contacts_name_idx ON contacts (customer_id, name_key text_pattern_ops, id);
CREATE INDEX contacts_crm_idx ON contacts (customer_id, crm_id) WHERE crm_id <> '';
CREATE INDEX contacts_suppressed_idx ON contacts (customer_id, suppressed, id);

-- Phone numbers (E.164) and emails (lower case), unique per customer.
CREATE TABLE contact_identifiers (
    customer_id UUID NOT NULL,
    value       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    contact_id  UUID NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (customer_id, value),
    FOREIGN KEY (customer_id, contact_id) REFERENCES contacts (customer_id, id)
);
CREATE INDEX contact_identifiers_contact_idx ON contact_identifiers (customer_id, contact_id);
CREATE INDEX contact_identifiers_value_idx ON contact_identifiers (value text_pattern_ops);

-- The consent ledger: append-only; erasure of its subject may delete.
CREATE TABLE consent_events (
    customer_id     UUID NOT NULL,
    id              UUID NOT NULL,
    contact_id      UUID NOT NULL,
    identifier      TEXT NOT NULL DEFAULT '',
    channel         TEXT NOT NULL,
    kind            TEXT NOT NULL,
    reason          TEXT NOT NULL DEFAULT '',
    source          TEXT NOT NULL,
    evidence        TEXT NOT NULL DEFAULT '',
    actor_type      TEXT NOT NULL,
    actor_id        TEXT NOT NULL DEFAULT '',
    actor_label     TEXT NOT NULL DEFAULT '',
    occurred_at     TIMESTAMPTZ NOT NULL,
    recorded_at     TIMESTAMPTZ NOT NULL,
    idempotency_key TEXT,
    PRIMARY KEY (customer_id, id),
    FOREIGN KEY (customer_id, contact_id) REFERENCES contacts (customer_id, id)
);
CREATE INDEX consent_events_contact_idx ON consent_events (customer_id, contact_id, occurred_at);
CREATE UNIQUE INDEX consent_events_idempotency_idx ON consent_events (customer_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- +goose StatementBegin
CREATE FUNCTION consent_events_no_update() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'consent_events is append-only: UPDATE refused';
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
    FOR EACH ROW EXECUTE FUNCTION consent_events_no_update();

-- The current state per contact and channel, derived from the ledger in
-- the same transaction as each event: what the suppression check reads.
CREATE TABLE consent_states (
    customer_id UUID NOT NULL,
    contact_id  UUID NOT NULL,
    channel     TEXT NOT NULL,
    suppressed  BOOLEAN NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    since       TIMESTAMPTZ NOT NULL,
    event_id    UUID NOT NULL,
    PRIMARY KEY (customer_id, contact_id, channel),
    FOREIGN KEY (customer_id, contact_id) REFERENCES contacts (customer_id, id)
);

-- Inbound replies; review ones form the review queue.
CREATE TABLE inbound_replies (
    customer_id      UUID NOT NULL,
    id               UUID NOT NULL,
    contact_id       UUID NOT NULL,
    from_value       TEXT NOT NULL,
    body             TEXT NOT NULL,
    action           TEXT NOT NULL,
    received_at      TIMESTAMPTZ NOT NULL,
    review_due_on    TEXT,
    reviewed_at      TIMESTAMPTZ,
    reviewed_by      TEXT NOT NULL DEFAULT '',
    decision         TEXT NOT NULL DEFAULT '',
    consent_event_id UUID,
    PRIMARY KEY (customer_id, id),
    FOREIGN KEY (customer_id, contact_id) REFERENCES contacts (customer_id, id)
);
CREATE INDEX inbound_replies_queue_idx ON inbound_replies (customer_id, action, reviewed_at, received_at);
CREATE INDEX inbound_replies_contact_idx ON inbound_replies (customer_id, contact_id, received_at);

-- CSV imports: a visible job, its file in chunks (resumable, bounded memory).
CREATE TABLE import_jobs (
    customer_id    UUID NOT NULL REFERENCES customers(id),
    id             UUID NOT NULL,
    kind           TEXT NOT NULL,
    file_name      TEXT NOT NULL,
    file_sha256    TEXT NOT NULL,
    file_size      BIGINT NOT NULL,
    mapping        TEXT NOT NULL DEFAULT '{}',
    status         TEXT NOT NULL,
    total_rows     BIGINT NOT NULL DEFAULT 0,
    bad_rows       BIGINT NOT NULL DEFAULT 0,
    processed_rows BIGINT NOT NULL DEFAULT 0,
    applied        BIGINT NOT NULL DEFAULT 0,
    unchanged      BIGINT NOT NULL DEFAULT 0,
    resume_offset  BIGINT NOT NULL DEFAULT 0,
    error          TEXT NOT NULL DEFAULT '',
    created_by     TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMPTZ NOT NULL,
    started_at     TIMESTAMPTZ,
    finished_at    TIMESTAMPTZ,
    heartbeat_at   TIMESTAMPTZ,
    PRIMARY KEY (customer_id, id)
);
CREATE UNIQUE INDEX import_jobs_id_idx ON import_jobs (id);
CREATE INDEX import_jobs_status_idx ON import_jobs (status, created_at);

CREATE TABLE import_chunks (
    job_id UUID NOT NULL,
    n      INTEGER NOT NULL,
    data   BYTEA NOT NULL,
    PRIMARY KEY (job_id, n)
);

-- Suppression checks are not audited one by one; they are counted per key and hour.
CREATE TABLE api_usage (
    key_id  UUID NOT NULL,
    hour    TIMESTAMPTZ NOT NULL,
    kind    TEXT NOT NULL,
    count   BIGINT NOT NULL,
    PRIMARY KEY (key_id, hour, kind)
);

-- +goose Down
DROP TABLE api_usage;
DROP TABLE import_chunks;
DROP TABLE import_jobs;
DROP TABLE inbound_replies;
DROP TABLE consent_states;
DROP TABLE consent_events;
DROP FUNCTION consent_events_no_update();
DROP TABLE contact_identifiers;
DROP TABLE contacts;
