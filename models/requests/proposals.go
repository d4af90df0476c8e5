package requests

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	errs "github.com/sendara/console/models/errs"
	store "github.com/sendara/console/models/store"
	"gorm.io/gorm/clause"
)

// Proposal statuses.
const (
	ProposalOpen      = "proposed"
	ProposalAccepted  = "accepted"
	ProposalDismissed = "dismissed"
)

// IdentifierProposal is a phone or email found in a request's mail.
type IdentifierProposal struct {
	RequestID string `gorm:"primaryKey"`
	Value     string `gorm:"primaryKey"` // normalized (E.164, lower-case email)
	Kind      string // KindPhone or KindEmail
	MailID    string // the received mail it was found in
	Status    string
	DecidedBy string
	DecidedAt *time.Time
}

// TableName is the proposals table.
func (IdentifierProposal) TableName() string { return "request_identifier_proposals" }

// maxProposalsPerMail bounds what one message can put in front of staff.
const maxProposalsPerMail = 20

var (
	emailInText = regexp.MustCompile(`[\p{L}\p{N}._%+\-]+@[\p{L}\p{N}\-]+(?:\.[\p{L}\p{N}\-]+)+`)
	phoneInText = regexp.MustCompile(`\+?\(?\d[\d ().\-/]{5,22}\d`)
	// referenceInText keeps a request reference from reading as a phone.
	referenceInText = regexp.MustCompile(`(?i)PR-\d{4}-\d{6}`)
)

// identifiersInText returns the phones and emails written in a message's
// own text, normalized, in order of appearance. Quoted lines ("> …") and
// the line introducing them belong to the mail being answered, not to the
// sender, and are skipped.
func identifiersInText(text, region string) []store.Identifier {
	var own []string
	for line := range strings.Lines(text) {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, ">") || strings.HasSuffix(t, "wrote:") {
			continue
		}
		own = append(own, referenceInText.ReplaceAllString(line, " "))
	}
	text = strings.Join(own, "")
	type found struct {
		at int
		id store.Identifier
	}
	var all []found
	for _, m := range emailInText.FindAllStringIndex(text, -1) {
		if id, err := store.NormalizeIdentifier("", strings.TrimRight(text[m[0]:m[1]], ".-"), region); err == nil && id.Kind == store.KindEmail {
			all = append(all, found{m[0], id})
		}
	}
	masked := emailInText.ReplaceAllStringFunc(text, func(s string) string { return strings.Repeat(" ", len(s)) })
	for _, m := range phoneInText.FindAllStringIndex(masked, -1) {
		if id, err := store.NormalizeIdentifier("", masked[m[0]:m[1]], region); err == nil && id.Kind == store.KindPhone {
			all = append(all, found{m[0], id})
		}
	}
	slices.SortStableFunc(all, func(a, b found) int { return a.at - b.at })
	var out []store.Identifier
	for _, f := range all {
		if !slices.Contains(out, f.id) {
			out = append(out, f.id)
		}
	}
	return out
}

// proposeIdentifiers records the identifiers in a request mail's text that
// the request does not have yet, for staff to accept or dismiss.
func proposeIdentifiers(t *store.Tx, r *PrivacyRequest, mailID, body, region string) error {
	have := r.Identifiers()
	n := 0
	for _, id := range identifiersInText(body, region) {
		if n == maxProposalsPerMail {
			break
		}
		if slices.Contains(have, id.Value) {
			continue
		}
		res := t.G.Clauses(clause.OnConflict{DoNothing: true}).Create(&IdentifierProposal{RequestID: r.ID, Value: id.Value,
			Kind: id.Kind, MailID: mailID, Status: ProposalOpen})
		if res.Error != nil {
			return fmt.Errorf("propose identifiers found in mail: %w", res.Error)
		}
		n += int(res.RowsAffected)
	}
	if n > 0 {
		t.Event(r.ID, "identifiers_found", fmt.Sprintf("%d phone number(s) or email(s) found in the message, proposed as subject identifiers.", n))
		t.Audit(store.Audit{Action: "request.identifiers_propose", ObjectType: "request", ObjectID: r.ID, CustomerID: store.DerefString(r.CustomerID),
			Details: map[string]any{"reference": r.Reference, "mail_id": mailID, "proposed": n}})
	}
	return nil
}

// IdentifierProposals lists what was found in a request's mail, open ones
// first. Staff only: a customer actor gets none.
func (db *RequestStore) IdentifierProposals(ctx context.Context, actor store.Actor, requestID string) ([]IdentifierProposal, error) {
	if !actor.Staff() || !store.ValidID(requestID) {
		return nil, nil
	}
	var out []IdentifierProposal
	if err := db.Gorm.WithContext(ctx).Where("request_id = ?", requestID).Order("value").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list proposed identifiers: %w", err)
	}
	open := func(p IdentifierProposal) int {
		if p.Status == ProposalOpen {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(out, func(a, b IdentifierProposal) int { return cmp.Compare(open(a), open(b)) })
	return out, nil
}

// DecideIdentifierProposal accepts or dismisses one proposed identifier.
// Accepting adds it to the request's subject identifiers, unverified
// (request.identifier_accept, with the value, on the timeline); either
// decision is recorded with who made it and when.
func (db *RequestStore) DecideIdentifierProposal(ctx context.Context, actor store.Actor, requestID, value string, accept bool) error {
	if !actor.Staff() {
		return store.ErrNotFound
	}
	status, action := ProposalDismissed, "request.identifier_dismiss"
	if accept {
		status, action = ProposalAccepted, "request.identifier_accept"
	}
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		now := store.Now()
		res := tx.G.Model(&IdentifierProposal{}).Where("request_id = ? AND value = ? AND status = ?", requestID, value, ProposalOpen).
			Updates(map[string]any{"status": status, "decided_by": actor.Label, "decided_at": now})
		if res.Error != nil {
			return fmt.Errorf("decide a proposed identifier: %w", res.Error)
		}
		if res.RowsAffected != 1 {
			return &errs.ConflictError{Field: "value", Message: "this identifier is not waiting for a decision (decided already, or never proposed)"}
		}
		_, err := UpdateRequest(tx, requestID, action, func(r *PrivacyRequest) (string, map[string]any, error) {
			if Closed(r.Status) {
				return "", nil, &errs.ConflictError{Field: "status", Message: "the request is closed: its identifiers can no longer change"}
			}
			details := map[string]any{"value": value}
			if !accept {
				return "Proposed identifier " + value + " dismissed.", details, nil
			}
			ids := r.Identifiers()
			if !slices.Contains(ids, value) {
				ids = append(ids, value)
				b, _ := json.Marshal(ids)
				r.SubjectIdentifiers = string(b)
				if err := tx.G.Clauses(clause.OnConflict{DoNothing: true}).Create(&SubjectIdentifier{RequestID: r.ID, Value: value}).Error; err != nil {
					return "", nil, fmt.Errorf("index request identifier: %w", err)
				}
			}
			return "Subject identifier " + value + " added from the request's mail (not verified).", details, nil
		})
		return err
	})
}
