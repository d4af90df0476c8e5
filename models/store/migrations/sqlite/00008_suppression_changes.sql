-- +goose Up
-- The suppression change log. Each console instance answers suppression
-- checks from an in-memory index (models/suppression_index.go); triggers
-- note here every change that can alter an answer, whoever makes it (this
-- instance, a CLI import, raw SQL), and the instances replay the log to
-- stay current. Rows are swept after an hour.
--   kind 'contact':    a contact's consent state changed (contact_id)
--   kind 'identifier': an identifier was added, moved or removed (value)
--   kind 'erased':     the erased list changed (hash)
--   kind 'keys':       an API key was revoked or a customer's status changed
CREATE TABLE suppression_changes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,
    customer_id TEXT,
    contact_id  TEXT,
    value       TEXT,
    hash        TEXT,
    changed_at  DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);
CREATE INDEX suppression_changes_changed_idx ON suppression_changes (changed_at);

-- Only suppressing states and identifiers of suppressed contacts can
-- change an answer when they appear; any update or removal can.
-- +goose StatementBegin
CREATE TRIGGER consent_states_inserted AFTER INSERT ON consent_states WHEN NEW.suppressed
BEGIN
    INSERT INTO suppression_changes (kind, customer_id, contact_id) VALUES ('contact', NEW.customer_id, NEW.contact_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER consent_states_updated AFTER UPDATE ON consent_states
BEGIN
    INSERT INTO suppression_changes (kind, customer_id, contact_id) VALUES ('contact', NEW.customer_id, NEW.contact_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER consent_states_deleted AFTER DELETE ON consent_states
BEGIN
    INSERT INTO suppression_changes (kind, customer_id, contact_id) VALUES ('contact', OLD.customer_id, OLD.contact_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER contact_identifiers_inserted AFTER INSERT ON contact_identifiers
WHEN EXISTS (SELECT 1 FROM consent_states s WHERE s.customer_id = NEW.customer_id AND s.contact_id = NEW.contact_id AND s.suppressed)
BEGIN
    INSERT INTO suppression_changes (kind, customer_id, value) VALUES ('identifier', NEW.customer_id, NEW.value);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER contact_identifiers_updated AFTER UPDATE ON contact_identifiers
BEGIN
    INSERT INTO suppression_changes (kind, customer_id, value) VALUES ('identifier', OLD.customer_id, OLD.value);
    INSERT INTO suppression_changes (kind, customer_id, value) VALUES ('identifier', NEW.customer_id, NEW.value);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER contact_identifiers_deleted AFTER DELETE ON contact_identifiers
BEGIN
    INSERT INTO suppression_changes (kind, customer_id, value) VALUES ('identifier', OLD.customer_id, OLD.value);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER erased_identifiers_inserted AFTER INSERT ON erased_identifiers
BEGIN
    INSERT INTO suppression_changes (kind, customer_id, hash) VALUES ('erased', NEW.customer_id, NEW.hash);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER erased_identifiers_updated AFTER UPDATE ON erased_identifiers
BEGIN
    INSERT INTO suppression_changes (kind, customer_id, hash) VALUES ('erased', NEW.customer_id, NEW.hash);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER erased_identifiers_deleted AFTER DELETE ON erased_identifiers
BEGIN
    INSERT INTO suppression_changes (kind, customer_id, hash) VALUES ('erased', OLD.customer_id, OLD.hash);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER api_keys_changed AFTER UPDATE OF revoked_at, customer_id, secret_hash ON api_keys
BEGIN
    INSERT INTO suppression_changes (kind) VALUES ('keys');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER api_keys_deleted AFTER DELETE ON api_keys
BEGIN
    INSERT INTO suppression_changes (kind) VALUES ('keys');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER customers_status_changed AFTER UPDATE OF status ON customers
BEGIN
    INSERT INTO suppression_changes (kind) VALUES ('keys');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER customers_deleted AFTER DELETE ON customers
BEGIN
    INSERT INTO suppression_changes (kind) VALUES ('keys');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER customers_deleted;
DROP TRIGGER customers_status_changed;
DROP TRIGGER api_keys_deleted;
DROP TRIGGER api_keys_changed;
DROP TRIGGER erased_identifiers_deleted;
DROP TRIGGER erased_identifiers_updated;
DROP TRIGGER erased_identifiers_inserted;
DROP TRIGGER contact_identifiers_deleted;
DROP TRIGGER contact_identifiers_updated;
DROP TRIGGER contact_identifiers_inserted;
DROP TRIGGER consent_states_deleted;
DROP TRIGGER consent_states_updated;
DROP TRIGGER consent_states_inserted;
DROP TABLE suppression_changes;
