-- +goose Up
-- Consent is three-valued: the suppression check now answers "opted in"
-- too, so the in-memory index holds opted-in identifiers as well as
-- suppressed ones, and the change log must note their arrival: every new
-- state (a state that does not suppress is an opt-in), and every identifier
-- added to a contact with any state.
DROP TRIGGER consent_states_inserted;
-- +goose StatementBegin
CREATE TRIGGER consent_states_inserted AFTER INSERT ON consent_states
BEGIN
    INSERT INTO suppression_changes (kind, customer_id, contact_id) VALUES ('contact', NEW.customer_id, NEW.contact_id);
END;
-- +goose StatementEnd
DROP TRIGGER contact_identifiers_inserted;
-- +goose StatementBegin
CREATE TRIGGER contact_identifiers_inserted AFTER INSERT ON contact_identifiers
WHEN EXISTS (SELECT 1 FROM consent_states s WHERE s.customer_id = NEW.customer_id AND s.contact_id = NEW.contact_id)
BEGIN
    INSERT INTO suppression_changes (kind, customer_id, value) VALUES ('identifier', NEW.customer_id, NEW.value);
END;
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
DROP TRIGGER contact_identifiers_inserted;
-- +goose StatementBegin
CREATE TRIGGER contact_identifiers_inserted AFTER INSERT ON contact_identifiers
WHEN EXISTS (SELECT 1 FROM consent_states s WHERE s.customer_id = NEW.customer_id AND s.contact_id = NEW.contact_id AND s.suppressed)
BEGIN
    INSERT INTO suppression_changes (kind, customer_id, value) VALUES ('identifier', NEW.customer_id, NEW.value);
END;
-- +goose StatementEnd
DROP TRIGGER consent_states_inserted;
-- +goose StatementBegin
CREATE TRIGGER consent_states_inserted AFTER INSERT ON consent_states WHEN NEW.suppressed
BEGIN
    INSERT INTO suppression_changes (kind, customer_id, contact_id) VALUES ('contact', NEW.customer_id, NEW.contact_id);
END;
-- +goose StatementEnd
