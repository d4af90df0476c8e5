-- +goose Up
-- Outgoing webhooks (issue 14): a customer's endpoints, the events the
-- console emits about its data, one delivery per event and endpoint, and
-- the log of every attempt.
--
-- webhook_endpoints.secret is the signing secret (whsec_ + base64); it is
-- kept in clear because signing needs it. previous_secret still signs
-- until previous_secret_until, so a receiver can switch secrets without
-- losing a message.
CREATE TABLE webhook_endpoints (
    id                    UUID PRIMARY KEY,
    customer_id           UUID NOT NULL REFERENCES customers(id),
    url                   TEXT NOT NULL,
    description           TEXT NOT NULL DEFAULT '',
    enabled               BOOLEAN NOT NULL DEFAULT TRUE,
    event_types           TEXT NOT NULL,
    secret                TEXT NOT NULL,
    previous_secret       TEXT NOT NULL DEFAULT '',
    previous_secret_until TIMESTAMPTZ,
    disabled_reason       TEXT NOT NULL DEFAULT '',
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_endpoints_customer_idx ON webhook_endpoints (customer_id, id);

-- The event outbox and changes feed. Rows are written in the same
-- transaction as the change they report. txid is the writing
-- transaction's id: the feed only hands out rows of transactions older
-- than every transaction still running, ordered by (txid, seq), so a row
-- can never appear behind a cursor already given out (seq alone can: ids
-- from a sequence commit out of order).
CREATE TABLE webhook_events (
    seq         BIGSERIAL PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    customer_id UUID NOT NULL REFERENCES customers(id),
    type        TEXT NOT NULL,
    contact_id  UUID,
    payload     TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    txid        BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint)
);
CREATE INDEX webhook_events_feed_idx ON webhook_events (customer_id, txid, seq);
CREATE INDEX webhook_events_contact_idx ON webhook_events (customer_id, contact_id);

-- status: pending (waiting, being attempted or retried), delivered,
-- failed (given up after three days). order_key is the contact the event
-- is about (or the event itself): a pending delivery waits for every
-- earlier pending one with the same endpoint and order_key.
CREATE TABLE webhook_deliveries (
    id              UUID PRIMARY KEY,
    customer_id     UUID NOT NULL REFERENCES customers(id),
    endpoint_id     UUID NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    event_seq       BIGINT NOT NULL REFERENCES webhook_events(seq) ON DELETE CASCADE,
    order_key       TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_status     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL,
    delivered_at    TIMESTAMPTZ
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_order_idx ON webhook_deliveries (endpoint_id, order_key, event_seq) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (customer_id, endpoint_id, event_seq);
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_seq);

CREATE TABLE webhook_attempts (
    id            BIGSERIAL PRIMARY KEY,
    customer_id   UUID NOT NULL REFERENCES customers(id),
    delivery_id   UUID NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    attempt       INTEGER NOT NULL,
    at            TIMESTAMPTZ NOT NULL,
    status_code   INTEGER NOT NULL DEFAULT 0,
    response_body TEXT NOT NULL DEFAULT '',
    error         TEXT NOT NULL DEFAULT '',
    duration_ms   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, id);

-- API keys (issue 14): a scope limits what a key may call (check: the
-- suppression checks only; write: contacts and consent; admin: all its
-- role allows, what every key could do before); a key may expire; a key
-- made by rotation names the key it replaces, which stays valid until the
-- end of the overlap (its expires_at).
ALTER TABLE api_keys ADD COLUMN scope TEXT NOT NULL DEFAULT 'admin';
ALTER TABLE api_keys ADD COLUMN expires_at TIMESTAMPTZ;
ALTER TABLE api_keys ADD COLUMN rotated_from TEXT;
-- The instances' key caches (models/suppression_index.go) drop their keys
-- when a key's expiry or scope changes, as when it is revoked.
CREATE TRIGGER api_keys_limits_changed AFTER UPDATE OF expires_at, scope ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION suppression_keys_changed();

-- +goose Down
DROP TRIGGER api_keys_limits_changed ON api_keys;
ALTER TABLE api_keys DROP COLUMN rotated_from;
ALTER TABLE api_keys DROP COLUMN expires_at;
ALTER TABLE api_keys DROP COLUMN scope;
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_events;
DROP TABLE webhook_endpoints;
