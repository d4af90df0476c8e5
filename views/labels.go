package views

import (
	"strings"

	calendar "github.com/sendara/console/models/calendar"
	outbox "github.com/sendara/console/models/outbox"

	requests "github.com/sendara/console/models/requests"
)

// LabelSet names a family of codes the console stores (statuses, types,
// timeline entries…) that pages show in words.
type LabelSet string

// The families of codes Label knows.
const (
	LabelStatus       LabelSet = "request status"
	LabelType         LabelSet = "request type"
	LabelRegime       LabelSet = "regime"
	LabelChannel      LabelSet = "channel"
	LabelRelationship LabelSet = "relationship"
	LabelEvent        LabelSet = "timeline entry"
	LabelTask         LabelSet = "controller answer"
	LabelMailKind     LabelSet = "mail kind"
	LabelMailStatus   LabelSet = "mail status"
	LabelMethod       LabelSet = "verification method"
	LabelProposal     LabelSet = "proposal decision"
)

// labels says each code in words, per family. Statuses and types keep
// their words beside the forms that offer them (RequestStatusLabels,
// TypeLabels); this table points at them, so there is one place per code.
var labels = map[LabelSet]map[string]string{
	LabelStatus: RequestStatusLabels,
	LabelType:   TypeLabels,
	LabelRegime: {
		calendar.RegimeGDPR: "GDPR", calendar.RegimeUKGDPR: "UK GDPR", calendar.RegimeCCPA: "CCPA (California)",
		calendar.RegimeOther: "no named law (strictest timing)",
	},
	LabelChannel: {"email": "email", "web_form": "public web form", "api": "API", "manual": "entered by staff"},
	LabelRelationship: {
		"end_user": "the person themselves", "account_holder": "a customer's account holder",
		"authorized_agent": "an authorized agent", "parent": "a parent or guardian",
	},
	LabelEvent: {
		"received":                  "received",
		"email_in":                  "mail received",
		"email_out":                 "mail sent",
		"mention":                   "mentions another request",
		"merge":                     "merged duplicate",
		"case_file_export":          "case file downloaded",
		"list_export":               "request list exported",
		"message":                   "message to the requester",
		"message_file_download":     "message file downloaded by staff",
		"status_view":               "requester opened the status page",
		"status_file_download":      "requester downloaded a file",
		"status_reply":              "requester answered on the status page",
		"status_bundle_link":        "requester took the bundle link",
		"incident":                  "incident opened",
		"no_sale_answer":            "answered: Sendara sells no personal information",
		"case_file_view":            "case file viewed",
		"identifiers_found":         "identifiers found in mail",
		"identifier_accept":         "identifier added from mail",
		"identifier_dismiss":        "identifier dismissed",
		"identifiers":               "identifiers changed",
		"requester":                 "requester changed",
		"suppressed":                "sending stopped",
		"triage":                    "type set",
		"verification_sent":         "verification link sent",
		"verify":                    "requester verified",
		"verify_skip":               "verification skipped",
		"verify_identifier":         "identifier verified",
		"assign":                    "assigned",
		"note":                      "note",
		"status":                    "status changed",
		"pause":                     "asked the requester (clock stopped)",
		"resume":                    "requester answered (clock restarted)",
		"extend":                    "deadline extended",
		"route":                     "routed to the controllers",
		"controller_answer":         "a controller answered",
		"export":                    "access bundle prepared",
		"export_reissue":            "bundle link issued again",
		"erase":                     "data erased",
		"rectify":                   "data corrected",
		"legal_hold":                "legal hold",
		"completion_resend":         "completion mail sent again",
		"proof_upload":              "proof of authority uploaded",
		"proof_check":               "proof of authority checked",
		"proof_delete":              "proof files deleted",
		"proof_override":            "proceeds without checked proof",
		"retention":                 "details removed (retention)",
		"proof_download":            "proof of authority downloaded",
		"view":                      "viewed",
		"list":                      "listed",
		"search":                    "searched",
		"export_download":           "bundle downloaded",
		"merge_into":                "duplicate merged in",
		"inbox_view":                "controller's inbox viewed",
		"hold":                      "legal hold placed",
		"hold_release":              "legal hold released",
		"create":                    "created",
		"mail_mark_sent":            "mail marked sent by hand",
		"verification_link_confirm": "requester confirmed by the emailed link",
		"routed":                    "routed to a controller",
		"answered":                  "a controller answered",
		"identifiers_propose":       "identifiers found in mail",
	},
	LabelTask: {
		requests.TaskPending: "waiting for the controller", requests.TaskApproved: "approved", requests.TaskDenied: "denied",
		requests.TaskInstructed: "instructed Sendara",
	},
	LabelMailKind: {
		outbox.MailAcknowledgement: "acknowledgement", outbox.MailVerification: "verification link",
		outbox.MailRouting: "to a controller", outbox.MailExtension: "extension notice", outbox.MailCompletion: "completion",
		outbox.MailDenial: "denial", outbox.MailOther: "message",
		outbox.MailIncidentNotice: "breach notice", outbox.MailProcessorChange: "sub-processor or policy change",
		outbox.MailNoSale: "no-sale answer",
	},
	LabelMailStatus: {
		outbox.MailQueued: "queued", outbox.MailSent: "sent", outbox.MailFailed: "failed", outbox.MailHeld: "held (not sent)",
	},
	LabelMethod: {
		"email_link": "emailed link", "email_reply": "reply from the address", "phone_call": "call-back to the phone",
		"id_document": "identity document", "account_login": "signed in to their account", "matched_records": "matched records",
		"skipped": "skipped (reason recorded)", "other": "other (see the note)",
	},
	LabelProposal: {
		requests.ProposalOpen: "waiting for a decision", requests.ProposalAccepted: "accepted", requests.ProposalDismissed: "dismissed",
	},
}

// Label says a stored code in words. A code without words (which
// TestEveryCodeHasALabel keeps from happening) is shown with its
// underscores as spaces.
func Label(set LabelSet, code string) string {
	if l, ok := labels[set][code]; ok {
		return l
	}
	return humanize(code)
}

// HasLabel reports whether a code has words of its own.
func HasLabel(set LabelSet, code string) bool {
	_, ok := labels[set][code]
	return ok
}

var TypeLabels = map[string]string{
	calendar.TypeAccess: "access (a copy of the data)", calendar.TypePortability: "portability (a portable copy)",
	calendar.TypeRectification: "rectification (correct the data)", calendar.TypeErasure: "erasure",
	calendar.TypeRestriction: "restriction of use", calendar.TypeObjection: "objection (stop contact)",
	calendar.TypeKnow: "right to know", calendar.TypeDelete: "delete", calendar.TypeCorrect: "correct",
	calendar.TypeOptOutSale: "opt-out of sale or sharing", calendar.TypeChildData: "a child's data (COPPA)", calendar.TypeOther: "other",
	// A mailbox suggestion only, not a request type (issue 13): open an incident from it.
	"account_compromise": "URGENT: account compromise or breach report (open an incident)",
}

// RequestStatusLabels say each status in words.
var RequestStatusLabels = map[string]string{
	requests.StatusReceived: "received", requests.StatusVerifying: "verifying the requester", requests.StatusVerified: "verified",
	requests.StatusWaiting:        "waiting on the requester (clock stopped)",
	requests.StatusWithController: "with the controllers", requests.StatusInProgress: "in progress (Sendara acts)",
	requests.StatusCompleted: "completed", requests.StatusDenied: "denied (reason required)", requests.StatusWithdrawn: "withdrawn",
}

// humanize writes a code (email_link) in words (email link).
func humanize(code string) string { return strings.ReplaceAll(code, "_", " ") }
