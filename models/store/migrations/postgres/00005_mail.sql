-- +goose Up
-- Mail of the privacy mailbox. outbox holds every message the console
-- sends, from the moment it is queued (in the same transaction as the
-- change it reports) until it is sent or given up; a sender claims due
-- rows, and what happened stays visible on the outbox page.
-- status: queued (waiting or being retried), sent, failed (given up after
-- the last attempt or refused outright), held (no SMTP server configured:
-- shown in the outbox only).
-- customer_id scopes a mail to the tenant it concerns (routing mail to a
-- customer's admins); mail to requesters may have none.
CREATE TABLE outbox (
    id              UUID PRIMARY KEY,
    customer_id     UUID REFERENCES customers(id),
    request_id      UUID,
    kind            TEXT NOT NULL,
    to_addr         TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body_text       TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'queued',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    sent_at         TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    message_id      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due_idx ON outbox (status, next_attempt_at);
CREATE INDEX outbox_customer_idx ON outbox (customer_id, id);
CREATE INDEX outbox_request_idx ON outbox (request_id, id);
CREATE INDEX outbox_message_id_idx ON outbox (message_id) WHERE message_id <> '';

-- Editable texts of the mails, with Go text/template placeholders
-- ({{.Reference}}, {{.DueOn}}, ...); one per kind.
CREATE TABLE mail_templates (
    kind       TEXT PRIMARY KEY,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by TEXT NOT NULL DEFAULT ''
);

-- Received mail, raw source kept as evidence. The same message delivered
-- twice (an MTA retrying after a lost answer, or sent to two of our
-- addresses) is stored once.
CREATE TABLE inbound_mail (
    id          UUID PRIMARY KEY,
    received_at TIMESTAMPTZ NOT NULL,
    message_id  TEXT NOT NULL DEFAULT '',
    from_addr   TEXT NOT NULL,
    subject     TEXT NOT NULL DEFAULT '',
    raw         BYTEA NOT NULL,
    request_id  UUID,
    customer_id UUID REFERENCES customers(id)
);
CREATE UNIQUE INDEX inbound_mail_message_idx ON inbound_mail (from_addr, message_id) WHERE message_id <> '';
CREATE INDEX inbound_mail_request_idx ON inbound_mail (request_id, received_at);
CREATE INDEX inbound_mail_customer_idx ON inbound_mail (customer_id, received_at);
CREATE INDEX inbound_mail_received_idx ON inbound_mail (received_at);

-- +goose StatementBegin
INSERT INTO mail_templates (kind, subject, body, updated_at, updated_by) VALUES
('acknowledgement',
 'We received your privacy request {{.Reference}}',
 '{{if .RequesterName}}Dear {{.RequesterName}},{{else}}Hello,{{end}}

Thank you for contacting Sendara. We received your privacy request on {{.ReceivedOn}} and gave it the reference {{.Reference}}. Please keep this reference in the subject line when you write to us about it.

What happens next:
- We may first need to confirm that the request comes from you. If so, we will write to you separately.
- We will answer by {{.DueOn}} at the latest. If we need more time, we will tell you why before then.

You do not need to do anything else for now. If you did not make this request, please reply to this email and tell us.

Sendara Privacy Team
',
 CURRENT_TIMESTAMP, 'migration'),
('verification',
 'Please confirm your privacy request {{.Reference}}',
 '{{if .RequesterName}}Dear {{.RequesterName}},{{else}}Hello,{{end}}

Before we act on your privacy request {{.Reference}}, we need to confirm that it comes from you. This protects your information from anyone pretending to be you.

Please open this link to confirm the request:
{{.Link}}

If the link no longer works, reply to this email and we will send a new one. If you did not make this request, you can ignore this email: we will not act on it.

Sendara Privacy Team
',
 CURRENT_TIMESTAMP, 'migration'),
('routing',
 'Privacy request {{.Reference}} about one of your contacts',
 'Hello{{if .Business}} {{.Business}} team{{end}},

Sendara received a privacy request on {{.ReceivedOn}} from a person who appears in your contacts. You decide how requests about your contacts are answered, so we are passing it to you, as our agreement with you requires.

Reference: {{.Reference}}
Type of request: {{.RequestType}}
The person must be answered by: {{.DueOn}}

Please sign in to the Sendara privacy console to see the request and tell us what to do:
{{.Link}}
{{if .Message}}
{{.Message}}
{{end}}
If you have questions, reply to this email and keep the reference in the subject line.

Sendara Privacy Team
',
 CURRENT_TIMESTAMP, 'migration'),
('extension',
 'More time needed for your privacy request {{.Reference}}',
 '{{if .RequesterName}}Dear {{.RequesterName}},{{else}}Hello,{{end}}

We are working on your privacy request {{.Reference}}, which we received on {{.ReceivedOn}}. We need more time to answer it properly, and the law allows us to extend the deadline when that is necessary.

Why we need more time:
{{.Reason}}

We will now answer by {{.ExtendedTo}} at the latest.

If you have questions, reply to this email and keep the reference in the subject line.

Sendara Privacy Team
',
 CURRENT_TIMESTAMP, 'migration'),
('completion',
 'Your privacy request {{.Reference}} is complete',
 '{{if .RequesterName}}Dear {{.RequesterName}},{{else}}Hello,{{end}}

We have completed your privacy request {{.Reference}}{{if .RequestType}} ({{.RequestType}}){{end}}.
{{if .Businesses}}
We passed your request to the businesses that hold your information and decide how it is used: {{.Businesses}}.
{{end}}{{if .Message}}
{{.Message}}
{{end}}
If anything is missing or wrong, reply to this email and keep the reference in the subject line.

Sendara Privacy Team
',
 CURRENT_TIMESTAMP, 'migration'),
('denial',
 'About your privacy request {{.Reference}}',
 '{{if .RequesterName}}Dear {{.RequesterName}},{{else}}Hello,{{end}}

We have looked at your privacy request {{.Reference}}, which we received on {{.ReceivedOn}}, and we cannot do all or part of what you asked.

Why:
{{.Reason}}

If you disagree, reply to this email and tell us why, and we will look at it again.

You also have the right to complain to a data protection supervisory authority, for example the one in the country where you live or work (in the UK, the Information Commissioner''s Office; in California, the California Privacy Protection Agency or the Attorney General), and to go to court.

Sendara Privacy Team
',
 CURRENT_TIMESTAMP, 'migration'),
('other',
 'About your privacy request {{.Reference}}',
 '{{if .RequesterName}}Dear {{.RequesterName}},{{else}}Hello,{{end}}

{{.Message}}

If you have questions, reply to this email and keep the reference {{.Reference}} in the subject line.

Sendara Privacy Team
',
 CURRENT_TIMESTAMP, 'migration');
-- +goose StatementEnd

-- +goose Down
DROP TABLE inbound_mail;
DROP TABLE mail_templates;
DROP TABLE outbox;
