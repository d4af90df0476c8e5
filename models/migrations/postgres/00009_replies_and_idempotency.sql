-- +goose Up
-- The same reply delivered twice (same sender, text and time) is one reply
-- (DESIGN §4): a SHA-256 of the three, unique per customer. Replies stored
-- before have none and are not compared.
ALTER TABLE inbound_replies ADD COLUMN dedupe_key TEXT;
CREATE UNIQUE INDEX inbound_replies_dedupe_idx ON inbound_replies (customer_id, dedupe_key) WHERE dedupe_key IS NOT NULL;

-- What a customer answers a HELP reply with (CTIA: the business's name,
-- how to get help, how to opt out). Empty: the console's default wording.
ALTER TABLE customers ADD COLUMN help_text TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE customers DROP COLUMN help_text;
DROP INDEX inbound_replies_dedupe_idx;
ALTER TABLE inbound_replies DROP COLUMN dedupe_key;
