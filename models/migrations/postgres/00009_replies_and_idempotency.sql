-- +goose Up
-- The same reply delivered twice (same sender, text and time) is one reply
-- (DESIGN §4): a SHA-256 of the three, unique per customer. Replies stored
-- before have none and are not compared.
ALTER TABLE inbound_replies ADD COLUMN dedupe_key TEXT;
CREATE UNIQUE INDEX inbound_replies_dedupe_idx ON inbound_replies (customer_id, dedupe_key) WHERE dedupe_key IS NOT NULL;

-- +goose Down
DROP INDEX inbound_replies_dedupe_idx;
ALTER TABLE inbound_replies DROP COLUMN dedupe_key;
