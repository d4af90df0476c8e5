-- +goose Up
-- Consent is three-valued: the suppression check now answers "opted in"
-- too, so the in-memory index holds opted-in identifiers as well as
-- suppressed ones, and the change log must note their arrival: every new
-- state (a state that does not suppress is an opt-in), and every identifier
-- added to a contact with any state.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION suppression_states_inserted() RETURNS trigger AS $$
BEGIN
    INSERT INTO suppression_changes (kind, customer_id, contact_id)
        SELECT DISTINCT 'contact', customer_id, contact_id FROM new_rows;
    PERFORM pg_notify('suppression_changes', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION suppression_identifiers_inserted() RETURNS trigger AS $$
BEGIN
    INSERT INTO suppression_changes (kind, customer_id, value)
        SELECT 'identifier', n.customer_id, n.value FROM new_rows n
        CROSS JOIN LATERAL (SELECT 1 FROM consent_states s
                            WHERE s.customer_id = n.customer_id AND s.contact_id = n.contact_id
                            LIMIT 1) stated;
    PERFORM pg_notify('suppression_changes', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

-- Structured opt-in evidence, beside the free-text evidence: what kind of
-- proof it is, where to find it, and who captured it.
ALTER TABLE consent_events ADD COLUMN evidence_kind TEXT NOT NULL DEFAULT '';
ALTER TABLE consent_events ADD COLUMN evidence_ref TEXT NOT NULL DEFAULT '';
ALTER TABLE consent_events ADD COLUMN captured_by TEXT NOT NULL DEFAULT '';

-- Opt-out import rows with a bad cell whose good identifiers still apply
-- ("opt-outs err on the side of suppression"), counted apart from the rows
-- skipped whole.
ALTER TABLE import_jobs ADD COLUMN partial_rows BIGINT NOT NULL DEFAULT 0;
-- Rows an opt-out flag column (Do Not Call, Unsubscribed…) says are not
-- opted out: skipped, and not bad.
ALTER TABLE import_jobs ADD COLUMN filtered_rows BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE import_jobs DROP COLUMN filtered_rows;
ALTER TABLE import_jobs DROP COLUMN partial_rows;
ALTER TABLE consent_events DROP COLUMN captured_by;
ALTER TABLE consent_events DROP COLUMN evidence_ref;
ALTER TABLE consent_events DROP COLUMN evidence_kind;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION suppression_states_inserted() RETURNS trigger AS $$
BEGIN
    INSERT INTO suppression_changes (kind, customer_id, contact_id)
        SELECT DISTINCT 'contact', customer_id, contact_id FROM new_rows WHERE suppressed;
    PERFORM pg_notify('suppression_changes', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION suppression_identifiers_inserted() RETURNS trigger AS $$
BEGIN
    INSERT INTO suppression_changes (kind, customer_id, value)
        SELECT 'identifier', n.customer_id, n.value FROM new_rows n
        CROSS JOIN LATERAL (SELECT 1 FROM consent_states s
                            WHERE s.customer_id = n.customer_id AND s.contact_id = n.contact_id AND s.suppressed
                            LIMIT 1) suppressing;
    PERFORM pg_notify('suppression_changes', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
