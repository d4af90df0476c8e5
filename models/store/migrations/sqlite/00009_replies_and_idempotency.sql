-- +goose Up
-- The same reply delivered twice (same sender, text and time) is one reply
-- (DESIGN §4): a SHA-256 of the three, unique per customer. Replies stored
-- before have none and are not compared.
ALTER TABLE inbound_replies ADD COLUMN dedupe_key TEXT;
CREATE UNIQUE INDEX inbound_replies_dedupe_idx ON inbound_replies (customer_id, dedupe_key) WHERE dedupe_key IS NOT NULL;

-- What a customer answers a HELP reply with (CTIA: the business's name,
-- how to get help, how to opt out). Empty: the console's default wording.
ALTER TABLE customers ADD COLUMN help_text TEXT NOT NULL DEFAULT '';

-- Idempotency-Key on the JSON API's POSTs: the first answer to a key,
-- replayed for 24 hours to the same API key sending the same request.
-- status 0 marks a request still being answered.
CREATE TABLE api_idempotency (
    api_key_id   TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL DEFAULT 0,
    body         TEXT NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL,
    PRIMARY KEY (api_key_id, key)
);
CREATE INDEX api_idempotency_created_idx ON api_idempotency (created_at);

-- +goose Down
DROP TABLE api_idempotency;
ALTER TABLE customers DROP COLUMN help_text;
DROP INDEX inbound_replies_dedupe_idx;
ALTER TABLE inbound_replies DROP COLUMN dedupe_key;
