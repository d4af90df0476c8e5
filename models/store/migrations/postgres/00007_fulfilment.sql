-- +goose Up
-- Fulfilment of privacy requests (issue 4, item 7): communication records,
-- legal holds, the suppression list of erased identifiers, and access
-- bundles behind expiring links.

-- Metadata of messages and calls (never their content): what access,
-- erasure and retention act on.
CREATE TABLE communications (
    customer_id     UUID NOT NULL,
    id              UUID NOT NULL,
    contact_id      UUID NOT NULL,
    channel         TEXT NOT NULL,
    direction       TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')),
    occurred_at     TIMESTAMPTZ NOT NULL,
    delivery_status TEXT NOT NULL DEFAULT '',
    crm_synced_at   TIMESTAMPTZ,
    PRIMARY KEY (customer_id, id),
    FOREIGN KEY (customer_id, contact_id) REFERENCES contacts (customer_id, id)
);
CREATE INDEX communications_contact_idx ON communications (customer_id, contact_id, occurred_at);

-- A legal hold keeps a contact's data (or an identifier's, by its keyed
-- hash) out of erasure until it is released. No foreign key to contacts:
-- a released hold outlives the contact it once protected.
CREATE TABLE legal_holds (
    customer_id     UUID NOT NULL REFERENCES customers(id),
    id              UUID NOT NULL,
    contact_id      UUID,
    identifier_hash TEXT,
    reason          TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    released_at     TIMESTAMPTZ,
    released_by     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (customer_id, id),
    CHECK (contact_id IS NOT NULL OR identifier_hash IS NOT NULL)
);
CREATE UNIQUE INDEX legal_holds_id_idx ON legal_holds (id);
CREATE INDEX legal_holds_contact_idx ON legal_holds (customer_id, contact_id) WHERE released_at IS NULL;
CREATE INDEX legal_holds_hash_idx ON legal_holds (customer_id, identifier_hash) WHERE released_at IS NULL;

-- Erased people stay suppressed: an HMAC-SHA256 (server secret) of each
-- identifier, never the identifier itself.
CREATE TABLE erased_identifiers (
    customer_id UUID NOT NULL REFERENCES customers(id),
    hash        TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT 'erasure',
    since       TIMESTAMPTZ NOT NULL,
    request_id  UUID NOT NULL REFERENCES privacy_requests(id),
    PRIMARY KEY (customer_id, hash)
);

-- Access and portability bundles (zip). Only a SHA-256 of the download
-- link's token is kept; the data is cleared once the link has expired or
-- the subject is erased.
CREATE TABLE request_exports (
    id          UUID PRIMARY KEY,
    request_id  UUID NOT NULL REFERENCES privacy_requests(id),
    customer_id UUID REFERENCES customers(id),
    token_hash  TEXT NOT NULL UNIQUE,
    expires_at  TIMESTAMPTZ NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    size        BIGINT NOT NULL,
    sha256      TEXT NOT NULL,
    data        BYTEA
);
CREATE INDEX request_exports_request_idx ON request_exports (request_id, created_at);
CREATE INDEX request_exports_expiry_idx ON request_exports (expires_at) WHERE data IS NOT NULL;

-- +goose Down
DROP TABLE request_exports;
DROP TABLE erased_identifiers;
DROP TABLE legal_holds;
DROP TABLE communications;
