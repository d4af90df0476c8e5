package consent

import (
	accounts "github.com/sendara/console/models/accounts"
	errs "github.com/sendara/console/models/errs"

	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
)

// Reversal statuses.
const (
	ReversalPending  = "pending"
	ReversalApproved = "approved"
	ReversalDenied   = "denied"
)

// PersonOptOutSources are the sources of opt-outs that came from the
// person themselves.
var PersonOptOutSources = []string{"inbound_reply", "privacy_request"}

// ConsentReversal is an opt-in that would reverse the person's own
// opt-out, waiting for (or decided by) a customer admin.
type ConsentReversal struct {
	ID               string `gorm:"primaryKey"`
	CustomerID       string
	ContactID        string
	Identifier       string
	Channel          string
	Source           string
	Evidence         string
	EvidenceKind     string
	EvidenceRef      string
	CapturedBy       string
	OccurredAt       time.Time
	OptOutEventID    string
	OptOutSource     string
	RequestedByType  string
	RequestedByID    string
	RequestedByLabel string
	RequestedAt      time.Time
	Status           string
	DecidedByID      string
	DecidedByLabel   string
	DecidedAt        *time.Time
	DecisionNote     string
	ConsentEventID   string
}

// ownOptOut is the standing opt-out on the affected channels that the
// person made themselves, or nil.
func ownOptOut(t *store.Tx, customerID string, states map[string]ConsentState, affected []string) (*ConsentEvent, error) {
	var ids []string
	for _, ch := range affected {
		if s, ok := states[ch]; ok && s.Suppressed && s.Reason == ReasonOptOut && s.EventID != "" {
			ids = append(ids, s.EventID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	var evs []ConsentEvent
	if err := t.G.Where("customer_id = ? AND id IN ? AND source IN ?", customerID, ids, PersonOptOutSources).
		Order("occurred_at DESC").Limit(1).Find(&evs).Error; err != nil {
		return nil, fmt.Errorf("read the standing opt-out: %w", err)
	}
	if len(evs) == 0 {
		return nil, nil
	}
	return &evs[0], nil
}

// mayReverseOptOut reports whether the transaction's actor may apply the
// reversal of a person's own opt-out at once: a customer admin of
// customerID, Sendara staff signed in as staff_admin or privacy_officer,
// or the console itself. Agents and API keys may only ask.
func mayReverseOptOut(t *store.Tx, customerID string) (bool, error) {
	switch t.Actor.Type {
	case store.ActorSystem:
		return true, nil
	case store.ActorUser:
	default:
		return false, nil
	}
	domain := customerID
	roles := []accounts.Role{accounts.RoleCustomerAdmin}
	if t.Actor.Staff() {
		domain, roles = accounts.StaffDomain, []accounts.Role{accounts.RoleStaffAdmin, accounts.RolePrivacyOfficer}
	}
	var n int64
	if err := t.G.Table("role_assignments").Where("user_id = ? AND domain = ? AND role IN ?", t.Actor.ID, domain, roles).
		Count(&n).Error; err != nil {
		return false, fmt.Errorf("read the actor's role: %w", err)
	}
	return n > 0, nil
}

// reverseOwnOptOut decides an opt-in that would reverse own, the person's
// own opt-out: it needs structured evidence; an actor who may not apply
// it at once gets a pending reversal (returned), audited as
// consent.reversal_request. nil, nil: apply it.
func reverseOwnOptOut(t *store.Tx, customerID string, c *Contact, ident store.Identifier, in ConsentInput, own *ConsentEvent) (*ConsentReversal, error) {
	if in.EvidenceKind == "" || in.EvidenceRef == "" {
		field := "evidence_kind"
		if in.EvidenceKind != "" {
			field = "evidence_ref"
		}
		return nil, errs.Invalid(field, "the person opted out themselves (%s, %s): an opt-in that reverses it needs structured evidence, its kind (%s) and a reference to the proof",
			strings.ReplaceAll(own.Source, "_", " "), own.OccurredAt.UTC().Format("2006-01-02"), strings.Join(EvidenceKinds, ", "))
	}
	ok, err := mayReverseOptOut(t, customerID)
	if err != nil || ok {
		return nil, err
	}
	r := &ConsentReversal{ID: uuid.Must(uuid.NewV7()).String(), CustomerID: customerID, ContactID: c.ID, Identifier: ident.Value,
		Channel: in.Channel, Source: in.Source, Evidence: in.Evidence, EvidenceKind: in.EvidenceKind, EvidenceRef: in.EvidenceRef,
		CapturedBy: in.CapturedBy, OccurredAt: in.OccurredAt, OptOutEventID: own.ID, OptOutSource: own.Source,
		RequestedByType: t.Actor.Type, RequestedByID: t.Actor.ID, RequestedByLabel: t.Actor.Label, RequestedAt: store.Now(), Status: ReversalPending}
	if err := t.G.Create(r).Error; err != nil {
		return nil, fmt.Errorf("store the reversal for approval: %w", err)
	}
	t.Audit(store.Audit{Action: "consent.reversal_request", ObjectType: "contact", ObjectID: c.ID, CustomerID: customerID,
		Details: map[string]any{"reversal": r.ID, "channel": r.Channel, "source": r.Source, "evidence_kind": r.EvidenceKind,
			"opt_out_event": own.ID, "opt_out_source": own.Source}})
	return r, nil
}

// ConsentReversals lists customerID's reversals with status (pending:
// oldest first; decided: newest first), at most 200. They name the
// person: every visit is audited (consent.reversal_list), as a list page.
func (db *ConsentStore) ConsentReversals(ctx context.Context, actor store.Actor, customerID, status string) ([]ConsentReversal, error) {
	if !slices.Contains([]string{ReversalPending, ReversalApproved, ReversalDenied}, status) {
		return nil, errs.Invalid("status", "must be pending, approved or denied")
	}
	order := "requested_at, id"
	if status != ReversalPending {
		order = "decided_at DESC, id DESC"
	}
	q := db.Gorm.WithContext(ctx).Scopes(actor.Tenant("customer_id")).Where("status = ?", status)
	if customerID != "" {
		q = q.Where("customer_id = ?", customerID)
	}
	var out []ConsentReversal
	if err := q.Order(order).Limit(200).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list consent reversals: %w", err)
	}
	return out, db.Record(ctx, actor, store.Audit{Action: "consent.reversal_list", ObjectType: "customer", ObjectID: customerID, CustomerID: customerID,
		Details: map[string]any{"status": status, "count": len(out)}})
}

// DecideConsentReversal approves or denies a pending reversal, as a
// customer admin of its customer (or staff as above); anyone else is
// refused (a ConflictError). Approving appends the opt-in to the ledger as
// the approver's, with the request's evidence, under the ledger's rules of
// now: an opt-out the person made since it was asked refuses it (409).
// Audited as consent.reversal_approve or consent.reversal_deny, naming who
// asked.
func (db *ConsentStore) DecideConsentReversal(ctx context.Context, actor store.Actor, id string, approve bool, note string) (*ConsentReversal, error) {
	if !store.ValidID(id) {
		return nil, store.ErrNotFound
	}
	note = strings.TrimSpace(note)
	if len(note) > 1000 {
		return nil, errs.Invalid("note", "must be at most 1000 characters")
	}
	var r ConsentReversal
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		err := tx.G.Scopes(actor.Tenant("customer_id")).Where("id = ?", id).Take(&r).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return store.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("read consent reversal: %w", err)
		}
		if r.Status != ReversalPending {
			return &errs.ConflictError{Field: "status", Message: "this reversal was already " + r.Status}
		}
		ok, err := mayReverseOptOut(tx, r.CustomerID)
		if err != nil {
			return err
		}
		if !ok {
			return &errs.ConflictError{Field: "reversal", Message: "only a customer admin may approve or deny the reversal of a person's own opt-out"}
		}
		now := store.Now()
		r.Status, r.DecidedByID, r.DecidedByLabel, r.DecidedAt, r.DecisionNote = ReversalDenied, actor.ID, actor.Label, &now, note
		action := "consent.reversal_deny"
		if approve {
			res, err := RecordConsent(tx, r.CustomerID, store.Identifier{Value: r.Identifier}, ConsentInput{ContactID: r.ContactID, Channel: r.Channel,
				Kind: OptIn, Source: r.Source, Evidence: r.Evidence, EvidenceKind: r.EvidenceKind, EvidenceRef: r.EvidenceRef,
				CapturedBy: r.CapturedBy, OccurredAt: r.OccurredAt})
			if err != nil {
				return err
			}
			r.Status, action = ReversalApproved, "consent.reversal_approve"
			if res.Event != nil {
				r.ConsentEventID = res.Event.ID
			}
		}
		upd := tx.G.Model(&ConsentReversal{}).Where("id = ? AND status = ?", r.ID, ReversalPending).Updates(map[string]any{
			"status": r.Status, "decided_by_id": r.DecidedByID, "decided_by_label": r.DecidedByLabel, "decided_at": now,
			"decision_note": note, "consent_event_id": r.ConsentEventID})
		if upd.Error != nil {
			return fmt.Errorf("decide consent reversal: %w", upd.Error)
		}
		if upd.RowsAffected != 1 {
			return &errs.ConflictError{Field: "status", Message: "this reversal was decided meanwhile: reload the page"}
		}
		tx.Audit(store.Audit{Action: action, ObjectType: "contact", ObjectID: r.ContactID, CustomerID: r.CustomerID,
			Details: map[string]any{"reversal": r.ID, "requested_by": r.RequestedByLabel, "requested_by_type": r.RequestedByType,
				"note": note, "consent_event": r.ConsentEventID}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}
