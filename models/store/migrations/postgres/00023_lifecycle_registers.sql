-- +goose Up
-- Registers of issue 13, items 3 to 8: the breach register (incidents, the
-- customers each affects with their notice deadline, a timeline),
-- sub-processors and privacy-policy versions with the customers'
-- objections, legal disclosures, and the templates of the mails they send.

-- An incident: a personal-data breach Sendara found or a customer reported.
CREATE TABLE incidents (
    id              UUID PRIMARY KEY,
    reference       TEXT NOT NULL UNIQUE,
    title           TEXT NOT NULL,
    description     TEXT NOT NULL,
    data_categories TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL CHECK (status IN ('open', 'contained', 'closed')),
    discovered_at   TIMESTAMPTZ NOT NULL,
    -- set when a customer reported the breach from its own page
    reported_by_customer_id UUID REFERENCES customers(id),
    created_by      TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX incidents_discovered_idx ON incidents (discovered_at);

-- A customer an incident affects: how many of its people, when it must be
-- told (discovery + the contractual hours) and when the notice was queued.
CREATE TABLE incident_customers (
    customer_id    UUID NOT NULL REFERENCES customers(id),
    incident_id    UUID NOT NULL REFERENCES incidents(id),
    affected_count INTEGER NOT NULL CHECK (affected_count >= 0),
    notice_due_at  TIMESTAMPTZ NOT NULL,
    notice_sent_at TIMESTAMPTZ,
    notice_mails   INTEGER NOT NULL DEFAULT 0,
    added_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (customer_id, incident_id)
);
CREATE INDEX incident_customers_incident_idx ON incident_customers (incident_id);

-- The incident's timeline: what happened and what was done, in order.
-- Lines of kind 'internal' are for Sendara's staff only.
CREATE TABLE incident_events (
    incident_id UUID NOT NULL REFERENCES incidents(id),
    id          UUID NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    -- set on a line about one affected customer: only that customer sees it
    customer_id UUID REFERENCES customers(id),
    kind        TEXT NOT NULL,
    text        TEXT NOT NULL,
    actor_label TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (incident_id, id)
);

-- Sendara's sub-processors (GDPR Art. 28(2)): the current list is the rows
-- without removed_on; the rest is its history.
CREATE TABLE subprocessors (
    id                 UUID PRIMARY KEY,
    name               TEXT NOT NULL,
    purpose            TEXT NOT NULL,
    location           TEXT NOT NULL,
    transfer_safeguard TEXT NOT NULL,
    effective_on       TEXT NOT NULL,
    objection_until    TEXT NOT NULL,
    removed_on         TEXT,
    created_by         TEXT NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL
);

-- Versions of the privacy policy and when each takes effect.
CREATE TABLE policy_versions (
    id           UUID PRIMARY KEY,
    version      TEXT NOT NULL UNIQUE,
    effective_on TEXT NOT NULL,
    summary      TEXT NOT NULL,
    url          TEXT NOT NULL DEFAULT '',
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);

-- A customer's objection to a new sub-processor, as its admin recorded it.
CREATE TABLE subprocessor_objections (
    customer_id      UUID NOT NULL REFERENCES customers(id),
    id               UUID NOT NULL,
    subprocessor_id  UUID NOT NULL REFERENCES subprocessors(id),
    reason           TEXT NOT NULL,
    created_by       TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (customer_id, id)
);
CREATE INDEX subprocessor_objections_sp_idx ON subprocessor_objections (subprocessor_id);

-- Demands for data from authorities and courts, and what Sendara did.
CREATE TABLE legal_disclosures (
    id              UUID PRIMARY KEY,
    received_on     TEXT NOT NULL,
    authority       TEXT NOT NULL,
    kind            TEXT NOT NULL,
    customer_id     UUID REFERENCES customers(id),
    disclosed       TEXT NOT NULL DEFAULT '',
    disclosed_on    TEXT,
    customer_told   BOOLEAN NOT NULL DEFAULT FALSE,
    not_told_reason TEXT NOT NULL DEFAULT '',
    created_by      TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);

INSERT INTO settings (key, value) VALUES ('incident_notice_hours', '24'), ('subprocessor_objection_days', '30');

INSERT INTO mail_templates (kind, subject, body, updated_at, updated_by) VALUES
('incident_notice',
 'Personal data breach notice {{.Reference}} for {{.Business}}',
 'Hello,

Sendara is writing to tell {{.Business}}, as the controller, of a personal data breach at Sendara that affects your data (GDPR Art. 33(2)). Our reference is {{.Reference}}; it was discovered on {{.ReceivedOn}}.

{{.Message}}

You may have to notify your supervisory authority within 72 hours of becoming aware of the breach (Art. 33(1)). The incident''s page in the Sendara console shows its timeline as we update it: {{.Link}}

Reply to this email with any question; please keep the reference in the subject.

Sendara Privacy Team',
 CURRENT_TIMESTAMP, 'migration'),
('processor_change',
 'Sendara privacy change for {{.Business}}: {{.Reference}}',
 'Hello,

Sendara is telling {{.Business}} of a change that takes effect on {{.DueOn}}: {{.Reference}}.

{{.Message}}
{{if .AnswerBy}}
You may object to this new sub-processor until {{.AnswerBy}} (GDPR Art. 28(2)) from the Sub-processors page of the console: {{.Link}}
{{else}}
The current list of sub-processors and the policy''s history are on the console: {{.Link}}
{{end}}
Sendara Privacy Team',
 CURRENT_TIMESTAMP, 'migration'),
('no_sale',
 'Your request {{.Reference}}: Sendara does not sell personal information',
 '{{if .RequesterName}}Dear {{.RequesterName}},{{else}}Hello,{{end}}

Thank you for your request to opt out of the sale or sharing of your personal information, received on {{.ReceivedOn}} (reference {{.Reference}}).

Sendara does not sell personal information, and does not share it for cross-context behavioral advertising. There is therefore no sale or sharing of your information to stop.

{{if .Businesses}}We have also told {{.Businesses}}, the businesses that hold your contact details, and stopped messages to you through Sendara on their behalf.{{end}}

If you also want us to delete your information or tell you what we hold, reply to this email with your reference.

Sendara Privacy Team',
 CURRENT_TIMESTAMP, 'migration');

-- +goose Down
DELETE FROM mail_templates WHERE kind IN ('incident_notice', 'processor_change', 'no_sale');
DELETE FROM settings WHERE key IN ('incident_notice_hours', 'subprocessor_objection_days');
DROP TABLE legal_disclosures;
DROP TABLE subprocessor_objections;
DROP TABLE policy_versions;
DROP TABLE subprocessors;
DROP TABLE incident_events;
DROP TABLE incident_customers;
DROP TABLE incidents;
