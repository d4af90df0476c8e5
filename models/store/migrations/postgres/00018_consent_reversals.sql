-- +goose Up
-- Reversals of a person's own opt-out waiting for a customer admin
-- (issue 10, item 7): an opt-in by an agent or an API key after an opt-out
-- the person made themselves (a keyword reply, a privacy request) is kept
-- here, with its evidence, until an admin approves it (it is then appended
-- to the ledger as the admin's opt-in) or denies it. Until then the person
-- stays opted out. Erasure deletes a subject's rows with the contact's.
CREATE TABLE consent_reversals (
    id                 UUID PRIMARY KEY,
    customer_id        UUID NOT NULL REFERENCES customers(id),
    contact_id         UUID NOT NULL,
    identifier         TEXT NOT NULL DEFAULT '',
    channel            TEXT NOT NULL,
    source             TEXT NOT NULL,
    evidence           TEXT NOT NULL,
    evidence_kind      TEXT NOT NULL,
    evidence_ref       TEXT NOT NULL,
    captured_by        TEXT NOT NULL DEFAULT '',
    occurred_at        TIMESTAMPTZ NOT NULL,
    opt_out_event_id   TEXT NOT NULL,
    opt_out_source     TEXT NOT NULL,
    requested_by_type  TEXT NOT NULL,
    requested_by_id    TEXT NOT NULL,
    requested_by_label TEXT NOT NULL,
    requested_at       TIMESTAMPTZ NOT NULL,
    status             TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied')),
    decided_by_id      TEXT NOT NULL DEFAULT '',
    decided_by_label   TEXT NOT NULL DEFAULT '',
    decided_at         TIMESTAMPTZ,
    decision_note      TEXT NOT NULL DEFAULT '',
    consent_event_id   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX consent_reversals_pending_idx ON consent_reversals (customer_id, status, requested_at);
CREATE INDEX consent_reversals_contact_idx ON consent_reversals (customer_id, contact_id);

-- +goose Down
DROP TABLE consent_reversals;
