-- +goose Up
-- Issue 9: the outcome the console certifies is true.

-- What Sendara did for each controller of a request (erased, exported,
-- rectified, sending stopped): completion reads it to say, per business,
-- what happened, and to tell compliance in whole from in part.
CREATE TABLE request_actions (
    request_id  UUID NOT NULL REFERENCES privacy_requests(id),
    customer_id UUID NOT NULL REFERENCES customers(id),
    kind        TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (request_id, customer_id, kind)
);

-- Each subject identifier is verified on its own: the requester's email by
-- the link sent to it, any other identifier by a method staff record.
ALTER TABLE request_identifiers ADD COLUMN verified_at TIMESTAMPTZ;
ALTER TABLE request_identifiers ADD COLUMN verification_method TEXT NOT NULL DEFAULT '';
ALTER TABLE request_identifiers ADD COLUMN verification_note TEXT NOT NULL DEFAULT '';
-- Requests verified before identifiers were verified one by one keep
-- working as they did: their identifiers count as verified with them.
UPDATE request_identifiers SET verified_at = (SELECT verified_at FROM privacy_requests p WHERE p.id = request_identifiers.request_id),
    verification_method = 'request'
    WHERE request_id IN (SELECT id FROM privacy_requests WHERE verified_at IS NOT NULL);

-- The GDPR clock stops while Sendara waits on the requester for what it
-- needs to identify them or to understand the request.
ALTER TABLE privacy_requests ADD COLUMN paused_at TIMESTAMPTZ;
ALTER TABLE privacy_requests ADD COLUMN paused_from TEXT NOT NULL DEFAULT '';
ALTER TABLE privacy_requests ADD COLUMN paused_days INTEGER NOT NULL DEFAULT 0;

-- A bundle link works once; staff may issue a new one (audited).
ALTER TABLE request_exports ADD COLUMN used_at TIMESTAMPTZ;

-- The routing mail names both dates: when the controller must answer
-- Sendara, and when the person must be answered. The completion and denial
-- mails list what each business decided and what Sendara did, and the
-- completion mail carries the bundle link. Templates staff have edited are
-- left as they are (the template page lists the new placeholders).
-- +goose StatementBegin
UPDATE mail_templates SET body = 'Hello{{if .Business}} {{.Business}} team{{end}},

Sendara received a privacy request on {{.ReceivedOn}} from a person who appears in your contacts. You decide how requests about your contacts are answered, so we are passing it to you, as our agreement with you requires.

Reference: {{.Reference}}
Type of request: {{.RequestType}}
Please answer Sendara by: {{.AnswerBy}}
The person must be answered by: {{.DueOn}}

Please sign in to the Sendara privacy console to see the request and tell us what to do (approve, give instructions, or refuse with the reason we should pass on):
{{.Link}}
{{if .Message}}
{{.Message}}
{{end}}
If you have questions, reply to this email and keep the reference in the subject line.

Sendara Privacy Team
', updated_at = CURRENT_TIMESTAMP WHERE kind = 'routing' AND updated_by = 'migration';
-- +goose StatementEnd
-- +goose StatementBegin
UPDATE mail_templates SET body = '{{if .RequesterName}}Dear {{.RequesterName}},{{else}}Hello,{{end}}

We have completed your privacy request {{.Reference}}{{if .RequestType}} ({{.RequestType}}){{end}}.
{{if .Outcomes}}
What each business that holds your information decided, and what we did:
{{range .Outcomes}}- {{.}}
{{end}}{{end}}{{if .Link}}
Your copy of your data is here (the link works once, until {{.LinkExpires}}; if it no longer works, reply and we will send a new one):
{{.Link}}
{{end}}{{if .Message}}
{{.Message}}
{{end}}
If anything is missing or wrong, reply to this email and keep the reference in the subject line. You also have the right to complain to a data protection supervisory authority.

Sendara Privacy Team
', updated_at = CURRENT_TIMESTAMP WHERE kind = 'completion' AND updated_by = 'migration';
-- +goose StatementEnd
-- +goose StatementBegin
UPDATE mail_templates SET body = '{{if .RequesterName}}Dear {{.RequesterName}},{{else}}Hello,{{end}}

We have looked at your privacy request {{.Reference}}, which we received on {{.ReceivedOn}}, and we cannot do all or part of what you asked.

Why:
{{.Reason}}
{{if .Outcomes}}
What each business that holds your information decided, and what we did:
{{range .Outcomes}}- {{.}}
{{end}}{{end}}
If you disagree, reply to this email and tell us why, and we will look at it again.

You also have the right to complain to a data protection supervisory authority, for example the one in the country where you live or work (in the UK, the Information Commissioner''s Office; in California, the California Privacy Protection Agency or the Attorney General), and to go to court.

Sendara Privacy Team
', updated_at = CURRENT_TIMESTAMP WHERE kind = 'denial' AND updated_by = 'migration';
-- +goose StatementEnd

-- +goose Down
ALTER TABLE request_exports DROP COLUMN used_at;
ALTER TABLE privacy_requests DROP COLUMN paused_days;
ALTER TABLE privacy_requests DROP COLUMN paused_from;
ALTER TABLE privacy_requests DROP COLUMN paused_at;
ALTER TABLE request_identifiers DROP COLUMN verification_note;
ALTER TABLE request_identifiers DROP COLUMN verification_method;
ALTER TABLE request_identifiers DROP COLUMN verified_at;
DROP TABLE request_actions;
