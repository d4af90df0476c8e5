-- +goose Up
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE customers (
    id              UUID PRIMARY KEY,
    slug            TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    contact_email   TEXT NOT NULL DEFAULT '',
    crm_type        TEXT NOT NULL DEFAULT 'other',
    status          TEXT NOT NULL DEFAULT 'active',
    cancelled_at    TIMESTAMPTZ,
    dpa_accepted_at TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    id              UUID PRIMARY KEY,
    customer_id     UUID REFERENCES customers(id),
    email           TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL DEFAULT '',
    password_hash   TEXT NOT NULL DEFAULT '',
    totp_secret     TEXT NOT NULL DEFAULT '',
    totp_enabled_at TIMESTAMPTZ,
    disabled_at     TIMESTAMPTZ,
    last_login_at   TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX users_customer_idx ON users (customer_id, email);

-- Role assignments are data; the permission matrix is the reviewed file rbac/policy.csv.
-- domain is '*' for staff roles and the customer id for customer roles.
CREATE TABLE role_assignments (
    user_id    UUID NOT NULL REFERENCES users(id),
    role       TEXT NOT NULL,
    domain     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, role, domain)
);

CREATE TABLE recovery_codes (
    user_id   UUID NOT NULL REFERENCES users(id),
    code_hash TEXT NOT NULL,
    used_at   TIMESTAMPTZ,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE invites (
    token_hash TEXT PRIMARY KEY,
    user_id    UUID NOT NULL REFERENCES users(id),
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);

CREATE TABLE sessions (
    id_hash        TEXT PRIMARY KEY,
    user_id        UUID NOT NULL REFERENCES users(id),
    mfa_passed     BOOLEAN NOT NULL DEFAULT FALSE,
    mfa_failures   INTEGER NOT NULL DEFAULT 0,
    ip             TEXT NOT NULL DEFAULT '',
    user_agent     TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMPTZ NOT NULL,
    last_seen_at   TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE login_failures (
    id    BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL,
    ip    TEXT NOT NULL,
    at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_failures_email_idx ON login_failures (email, at);
CREATE INDEX login_failures_ip_idx ON login_failures (ip, at);

CREATE TABLE api_keys (
    id           UUID PRIMARY KEY,
    customer_id  UUID REFERENCES customers(id),
    name         TEXT NOT NULL DEFAULT '',
    prefix       TEXT NOT NULL,
    secret_hash  TEXT NOT NULL UNIQUE,
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX api_keys_customer_idx ON api_keys (customer_id, created_at);

-- The audit log: one hash chain in seq order. audit_head holds the newest
-- seq and hash; appending locks that single row for the moment of the insert.
CREATE TABLE audit_events (
    seq         BIGINT PRIMARY KEY,
    occurred_at TIMESTAMPTZ NOT NULL,
    actor_type  TEXT NOT NULL,
    actor_id    TEXT NOT NULL DEFAULT '',
    actor_label TEXT NOT NULL DEFAULT '',
    ip          TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL DEFAULT '',
    object_id   TEXT NOT NULL DEFAULT '',
    customer_id TEXT NOT NULL DEFAULT '',
    details     TEXT NOT NULL DEFAULT '{}',
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_events_customer_idx ON audit_events (customer_id, seq);
CREATE INDEX audit_events_action_idx ON audit_events (action, seq);

CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

-- +goose StatementBegin
CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- +goose Down
DROP TABLE audit_head;
DROP TABLE audit_events;
DROP FUNCTION audit_events_append_only();
DROP TABLE api_keys;
DROP TABLE login_failures;
DROP TABLE sessions;
DROP TABLE invites;
DROP TABLE recovery_codes;
DROP TABLE role_assignments;
DROP TABLE users;
DROP TABLE customers;
DROP TABLE settings;
