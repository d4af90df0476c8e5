-- +goose Up
-- Fulfilment of privacy requests (issue 4, item 7): communication records,
-- legal holds, the suppression list of erased identifiers, and access
-- bundles behind expiring links.

-- Metadata of messages and calls (never their content): what access,
-- erasure and retention act on.
CREATE TABLE communications (
    customer_id     TEXT NOT NULL,
    id              TEXT NOT NULL,
    contact_id      TEXT NOT NULL,
    channel         TEXT NOT NULL,
    direction       TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')),
    occurred_at     DATETIME NOT NULL,
    delivery_status TEXT NOT NULL DEFAULT '',
    crm_synced_at   DATETIME,
    PRIMARY KEY (customer_id, id),
    FOREIGN KEY (customer_id, contact_id) REFERENCES contacts (customer_id, id)
);
CREATE INDEX communications_contact_idx ON communications (customer_id, contact_id, occurred_at);

-- A legal hold keeps a contact's data (or an identifier's, by its keyed
-- hash) out of erasure until it is released. No foreign key to contacts:
-- a released hold outlives the contact it once protected.
CREATE TABLE legal_holds (
    customer_id     TEXT NOT NULL REFERENCES customers(id),
    id              TEXT NOT NULL,
    contact_id      TEXT,
    identifier_hash TEXT,
    reason          TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      DATETIME NOT NULL,
    released_at     DATETIME,
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
    customer_id TEXT NOT NULL REFERENCES customers(id),
    hash        TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT 'erasure',
    since       DATETIME NOT NULL,
    request_id  TEXT NOT NULL REFERENCES privacy_requests(id),
    PRIMARY KEY (customer_id, hash)
);

-- Access and portability bundles (zip). Only a SHA-256 of the download
-- link's token is kept; the data is cleared once the link has expired or
-- the subject is erased.
CREATE TABLE request_exports (
    id          TEXT PRIMARY KEY,
    request_id  TEXT NOT NULL REFERENCES privacy_requests(id),
    customer_id TEXT REFERENCES customers(id),
    token_hash  TEXT NOT NULL UNIQUE,
    expires_at  DATETIME NOT NULL,
    created_at  DATETIME NOT NULL,
    size        BIGINT NOT NULL,
    sha256      TEXT NOT NULL,
    data        BLOB
);
CREATE INDEX request_exports_request_idx ON request_exports (request_id, created_at);
CREATE INDEX request_exports_expiry_idx ON request_exports (expires_at) WHERE data IS NOT NULL;

-- +goose Down
DROP TABLE request_exports;
DROP TABLE erased_identifiers;
DROP TABLE legal_holds;
DROP TABLE communications;
