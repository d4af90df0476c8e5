-- +goose Up
-- The suppression change log. Each console instance answers suppression
-- checks from an in-memory index (models/suppression_index.go); triggers
-- note here every change that can alter an answer, whoever makes it (this
-- instance, another one, a CLI import, raw SQL), and the instances replay
-- the log to stay current. Rows are swept after an hour.
--   kind 'contact':    a contact's consent state changed (contact_id)
--   kind 'identifier': an identifier was added, moved or removed (value)
--   kind 'erased':     the erased list changed (hash)
--   kind 'keys':       an API key was revoked or a customer's status changed
CREATE TABLE suppression_changes (
    id          BIGSERIAL PRIMARY KEY,
    kind        TEXT NOT NULL,
    customer_id UUID,
    contact_id  UUID,
    value       TEXT,
    hash        TEXT,
    changed_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX suppression_changes_changed_idx ON suppression_changes (changed_at);

-- Statement-level triggers with transition tables: a bulk import of a
-- million rows adds one INSERT … SELECT, not a million trigger calls. Only
-- suppressing states and identifiers of suppressed contacts can change an
-- answer when they appear; any update or removal can.
-- +goose StatementBegin
CREATE FUNCTION suppression_states_inserted() RETURNS trigger AS $$
BEGIN
    INSERT INTO suppression_changes (kind, customer_id, contact_id)
        SELECT DISTINCT 'contact', customer_id, contact_id FROM new_rows WHERE suppressed;
    PERFORM pg_notify('suppression_changes', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION suppression_states_updated() RETURNS trigger AS $$
BEGIN
    INSERT INTO suppression_changes (kind, customer_id, contact_id)
        SELECT DISTINCT 'contact', customer_id, contact_id FROM new_rows;
    PERFORM pg_notify('suppression_changes', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION suppression_states_deleted() RETURNS trigger AS $$
BEGIN
    INSERT INTO suppression_changes (kind, customer_id, contact_id)
        SELECT DISTINCT 'contact', customer_id, contact_id FROM old_rows;
    PERFORM pg_notify('suppression_changes', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER consent_states_inserted AFTER INSERT ON consent_states
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION suppression_states_inserted();
CREATE TRIGGER consent_states_updated AFTER UPDATE ON consent_states
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION suppression_states_updated();
CREATE TRIGGER consent_states_deleted AFTER DELETE ON consent_states
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION suppression_states_deleted();

-- +goose StatementBegin
CREATE FUNCTION suppression_identifiers_inserted() RETURNS trigger AS $$
BEGIN
    INSERT INTO suppression_changes (kind, customer_id, value)
        SELECT 'identifier', n.customer_id, n.value FROM new_rows n
        -- A lateral probe per row, not EXISTS: the planner knows nothing of
        -- a transition table's size and would hash all of consent_states.
        CROSS JOIN LATERAL (SELECT 1 FROM consent_states s
                            WHERE s.customer_id = n.customer_id AND s.contact_id = n.contact_id AND s.suppressed
                            LIMIT 1) suppressing;
    PERFORM pg_notify('suppression_changes', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION suppression_identifiers_updated() RETURNS trigger AS $$
BEGIN
    INSERT INTO suppression_changes (kind, customer_id, value)
        SELECT 'identifier', customer_id, value FROM old_rows
        UNION SELECT 'identifier', customer_id, value FROM new_rows;
    PERFORM pg_notify('suppression_changes', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION suppression_identifiers_deleted() RETURNS trigger AS $$
BEGIN
    INSERT INTO suppression_changes (kind, customer_id, value)
        SELECT 'identifier', customer_id, value FROM old_rows;
    PERFORM pg_notify('suppression_changes', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER contact_identifiers_inserted AFTER INSERT ON contact_identifiers
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION suppression_identifiers_inserted();
CREATE TRIGGER contact_identifiers_updated AFTER UPDATE ON contact_identifiers
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION suppression_identifiers_updated();
CREATE TRIGGER contact_identifiers_deleted AFTER DELETE ON contact_identifiers
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION suppression_identifiers_deleted();

-- +goose StatementBegin
CREATE FUNCTION suppression_erased_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO suppression_changes (kind, customer_id, hash) VALUES ('erased', OLD.customer_id, OLD.hash);
    ELSE
        INSERT INTO suppression_changes (kind, customer_id, hash) VALUES ('erased', NEW.customer_id, NEW.hash);
    END IF;
    PERFORM pg_notify('suppression_changes', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER erased_identifiers_changed AFTER INSERT OR UPDATE OR DELETE ON erased_identifiers
    FOR EACH ROW EXECUTE FUNCTION suppression_erased_changed();

-- +goose StatementBegin
CREATE FUNCTION suppression_keys_changed() RETURNS trigger AS $$
BEGIN
    INSERT INTO suppression_changes (kind) VALUES ('keys');
    PERFORM pg_notify('suppression_changes', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER api_keys_changed AFTER UPDATE OF revoked_at, customer_id, secret_hash OR DELETE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION suppression_keys_changed();
CREATE TRIGGER customers_status_changed AFTER UPDATE OF status OR DELETE ON customers
    FOR EACH STATEMENT EXECUTE FUNCTION suppression_keys_changed();

-- +goose Down
DROP TRIGGER customers_status_changed ON customers;
DROP TRIGGER api_keys_changed ON api_keys;
DROP TRIGGER erased_identifiers_changed ON erased_identifiers;
DROP TRIGGER contact_identifiers_deleted ON contact_identifiers;
DROP TRIGGER contact_identifiers_updated ON contact_identifiers;
DROP TRIGGER contact_identifiers_inserted ON contact_identifiers;
DROP TRIGGER consent_states_deleted ON consent_states;
DROP TRIGGER consent_states_updated ON consent_states;
DROP TRIGGER consent_states_inserted ON consent_states;
DROP FUNCTION suppression_keys_changed();
DROP FUNCTION suppression_erased_changed();
DROP FUNCTION suppression_identifiers_deleted();
DROP FUNCTION suppression_identifiers_updated();
DROP FUNCTION suppression_identifiers_inserted();
DROP FUNCTION suppression_states_deleted();
DROP FUNCTION suppression_states_updated();
DROP FUNCTION suppression_states_inserted();
DROP TABLE suppression_changes;
