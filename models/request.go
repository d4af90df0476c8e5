package models

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Request statuses, in lifecycle order (DESIGN §3).
const (
	StatusReceived       = "received"
	StatusVerifying      = "verifying"
	StatusVerified       = "verified"
	StatusWithController = "with_controller"
	StatusInProgress     = "in_progress"
	// StatusWaiting: Sendara asked the requester for what it needs to
	// identify them or to understand the request; under the GDPR the clock
	// stops until they answer (AskRequester).
	StatusWaiting   = "waiting_on_requester"
	StatusCompleted = "completed"
	StatusDenied    = "denied"
	StatusWithdrawn = "withdrawn"
)

// RequestStatuses lists the statuses in lifecycle order.
var RequestStatuses = []string{StatusReceived, StatusVerifying, StatusWaiting, StatusVerified, StatusWithController, StatusInProgress,
	StatusCompleted, StatusDenied, StatusWithdrawn}

// OpenStatuses are the statuses of a request still to be answered.
var OpenStatuses = []string{StatusReceived, StatusVerifying, StatusWaiting, StatusVerified, StatusWithController, StatusInProgress}

// transitions says which status may follow which. Denial and withdrawal
// are possible until the request is closed; completion from work in
// progress, or with the controllers when staff override a missing answer
// (ChangeStatus). Verification may be skipped only through SkipVerification,
// which records a reason.
var transitions = map[string][]string{
	StatusReceived:       {StatusVerifying, StatusDenied, StatusWithdrawn},
	StatusVerifying:      {StatusDenied, StatusWithdrawn},
	StatusVerified:       {StatusWithController, StatusInProgress, StatusDenied, StatusWithdrawn},
	StatusWithController: {StatusInProgress, StatusCompleted, StatusDenied, StatusWithdrawn},
	StatusInProgress:     {StatusCompleted, StatusDenied, StatusWithdrawn},
	// The requester's answer resumes the request (RequesterAnswered).
	StatusWaiting: {StatusDenied, StatusWithdrawn},
}

// NextStatuses lists the statuses a request may move to from status by a
// plain status change (ChangeStatus).
func NextStatuses(status string) []string { return slices.Clone(transitions[status]) }

// Closed reports whether a status ends the request.
func Closed(status string) bool {
	return status == StatusCompleted || status == StatusDenied || status == StatusWithdrawn
}

// Intake channels and requester relationships.
var (
	RequestChannels = []string{"email", "web_form", "api", "manual"}
	Relationships   = []string{"end_user", "account_holder", "authorized_agent", "parent"}
)

// PrivacyRequest is a data subject's request and its case file.
type PrivacyRequest struct {
	ID                 string `gorm:"primaryKey"`
	Reference          string
	Type               *string
	SuggestedType      string
	Regime             string
	Channel            string
	Status             string
	RequesterName      string
	RequesterEmail     string
	RequesterPhone     string
	Relationship       string
	Proof              string // an authorized agent's or parent's proof of authority
	SubjectIdentifiers string // JSON array of normalized identifiers
	CustomerID         *string
	AssigneeID         *string
	Details            string
	ReceivedAt         time.Time
	VerifiedAt         *time.Time
	VerificationMethod string
	VerificationNote   string
	AckDueOn           *string
	DueOn              string
	ExtendedTo         *string
	ExtensionReason    string
	ExtensionNoticeAt  *time.Time
	CompletedAt        *time.Time
	PausedAt           *time.Time // waiting on the requester since, clock stopped
	PausedFrom         string     // the status to go back to when they answer
	PausedDays         int        // days the clock stood still, added to the due dates
	Outcome            string
	DenialReason       string
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// TableName keeps the table's name.
func (PrivacyRequest) TableName() string { return "privacy_requests" }

// Identifiers returns the subject's normalized identifiers.
func (r *PrivacyRequest) Identifiers() []string {
	var ids []string
	_ = json.Unmarshal([]byte(r.SubjectIdentifiers), &ids)
	return ids
}

// TypeOr returns the request's type, or def until it is triaged.
func (r *PrivacyRequest) TypeOr(def string) string {
	if r.Type == nil {
		return def
	}
	return *r.Type
}

// EffectiveDueOn is the due date in force: the extended one if extended.
func (r *PrivacyRequest) EffectiveDueOn() string {
	if r.ExtendedTo != nil {
		return *r.ExtendedTo
	}
	return r.DueOn
}

// RequestEvent is one entry of a request's timeline.
type RequestEvent struct {
	RequestID  string `gorm:"primaryKey"`
	ID         string `gorm:"primaryKey"`
	At         time.Time
	ActorType  string
	ActorLabel string
	Kind       string
	Text       string
}

// SubjectIdentifier is one identifier of a request's subject with its own
// verification: the requester's email is verified by the link sent to it,
// any other identifier by a method staff record. Search, routing and
// fulfilment use verified identifiers only (opt-outs aside, which need no
// verification), so confirming one address never unlocks data found by
// another.
type SubjectIdentifier struct {
	RequestID          string `gorm:"primaryKey"`
	Value              string `gorm:"primaryKey"`
	VerifiedAt         *time.Time
	VerificationMethod string
	VerificationNote   string
}

// TableName keeps the table's name.
func (SubjectIdentifier) TableName() string { return "request_identifiers" }

type requestCounter struct {
	Year int `gorm:"primaryKey"`
	Last int64
}

func (requestCounter) TableName() string { return "request_counters" }

// Business is how the console reckons time for deadlines: the business
// time zone, the holiday calendar and the deadline policy.
type Business struct {
	Loc      *time.Location
	Calendar *Calendar
	Policy   DeadlinePolicy
}

// DefaultBusiness is America/Los_Angeles with the US federal calendar.
func DefaultBusiness() Business {
	loc, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		loc = time.UTC
	}
	return Business{Loc: loc, Calendar: DefaultCalendar(), Policy: DefaultDeadlinePolicy()}
}

// Today is the civil date now in the business time zone.
func (b Business) Today() string { return time.Now().In(b.Loc).Format(time.DateOnly) }

// RequestInput is a new request from any intake channel.
type RequestInput struct {
	Type          string // empty until triaged (mail intake)
	SuggestedType string
	Regime        string // empty: other (the strictest rule)
	Channel       string
	Requester     Requester
	Identifiers   []string // raw subject identifiers
	CustomerID    string   // the customer concerned, if known
	Details       string
	ReceivedAt    time.Time // zero: now
}

// Requester is who asks: the person, their agent or their parent.
type Requester struct {
	Name         string
	Email        string
	Phone        string
	Relationship string
	Proof        string
}

func (in *RequestInput) normalize(region string) ([]string, error) {
	in.Type = strings.TrimSpace(in.Type)
	if in.Type != "" {
		if _, err := ParseRequestType(in.Type); err != nil {
			return nil, err
		}
	}
	in.Regime = strings.TrimSpace(in.Regime)
	if in.Regime == "" {
		in.Regime = RegimeOther
	}
	if _, err := ParseRegime(in.Regime); err != nil {
		return nil, err
	}
	if !slices.Contains(RequestChannels, in.Channel) {
		return nil, Invalid("channel", "must be one of %s", strings.Join(RequestChannels, ", "))
	}
	r := &in.Requester
	if r.Relationship == "" {
		r.Relationship = "end_user"
	}
	if !slices.Contains(Relationships, r.Relationship) {
		return nil, Invalid("requester.relationship", "must be one of %s", strings.Join(Relationships, ", "))
	}
	r.Name = CleanName(r.Name) // it goes into mail headers and bodies
	if len(r.Name) > 200 || len(r.Proof) > 4000 || len(in.Details) > 20000 {
		return nil, Invalid("requester", "name, proof or details are too long")
	}
	if r.Email != "" {
		email, err := NormalizeEmail("requester.email", r.Email)
		if err != nil {
			return nil, err
		}
		r.Email = email
	}
	if r.Phone != "" {
		id, err := NormalizeIdentifier("requester.phone", r.Phone, region)
		if err != nil || id.Kind != KindPhone {
			return nil, Invalid("requester.phone", "is not a valid phone number")
		}
		r.Phone = id.Value
	}
	if r.Email == "" && r.Phone == "" {
		return nil, Invalid("requester.email", "give an email or a phone number so the requester can be answered")
	}
	ids, err := normalizeAll("subject_identifiers", in.Identifiers, region)
	if err != nil {
		return nil, err
	}
	values := identifierValues(ids)
	if len(values) == 0 && r.Relationship == "end_user" {
		// The requester is the subject: their own contact details identify them.
		for _, v := range []string{r.Email, r.Phone} {
			if v != "" {
				values = append(values, v)
			}
		}
	}
	if len(values) == 0 {
		return nil, Invalid("subject_identifiers", "give the phone numbers or emails of the person the request is about")
	}
	if (r.Relationship == "authorized_agent" || r.Relationship == "parent") && strings.TrimSpace(r.Proof) == "" && in.Channel != "email" {
		return nil, Invalid("requester.proof", "an authorized agent or parent must show their authority (a signed permission, a power of attorney, proof of parenthood)")
	}
	return values, nil
}

// CreateRequest records a request from any intake channel with its
// deadlines, reference and first timeline entry, in one transaction.
func (db *DB) CreateRequest(ctx context.Context, actor Actor, biz Business, in RequestInput, region string) (*PrivacyRequest, error) {
	return db.CreateRequestThen(ctx, actor, biz, in, region, nil)
}

// CreateRequestThen is CreateRequest with more work in the same
// transaction once the request exists (the acknowledgement, a confirmation
// link and its email): all of it is written, or none.
func (db *DB) CreateRequestThen(ctx context.Context, actor Actor, biz Business, in RequestInput, region string, then func(tx *Tx, r *PrivacyRequest) error) (*PrivacyRequest, error) {
	values, err := in.normalize(region)
	if err != nil {
		return nil, err
	}
	now := Now()
	if in.ReceivedAt.IsZero() {
		in.ReceivedAt = now
	}
	in.ReceivedAt = in.ReceivedAt.UTC().Truncate(time.Microsecond)
	if in.ReceivedAt.After(now.Add(futureSkew)) {
		return nil, Invalid("received_at", "is in the future")
	}
	idsJSON, _ := json.Marshal(values)
	r := &PrivacyRequest{ID: uuid.Must(uuid.NewV7()).String(), SuggestedType: in.SuggestedType, Regime: in.Regime, Channel: in.Channel,
		Status: StatusReceived, RequesterName: in.Requester.Name, RequesterEmail: in.Requester.Email, RequesterPhone: in.Requester.Phone,
		Relationship: in.Requester.Relationship, Proof: strings.TrimSpace(in.Requester.Proof), SubjectIdentifiers: string(idsJSON),
		Details: in.Details, ReceivedAt: in.ReceivedAt, CreatedAt: now, UpdatedAt: now}
	if in.Type != "" {
		r.Type = &in.Type
	}
	if in.CustomerID != "" {
		if !validID(in.CustomerID) {
			return nil, Invalid("customer", "no such customer")
		}
		r.CustomerID = &in.CustomerID
	}
	r.applyDeadlines(biz)
	err = db.Tx(ctx, actor, func(tx *Tx) error {
		if r.CustomerID != nil {
			var n int64
			if err := tx.G.Model(&Customer{}).Where("id = ?", *r.CustomerID).Count(&n).Error; err != nil || n == 0 {
				return Invalid("customer", "no such customer")
			}
		}
		ref, err := tx.nextReference(in.ReceivedAt.In(biz.Loc).Year())
		if err != nil {
			return err
		}
		r.Reference = ref
		if err := tx.G.Create(r).Error; err != nil {
			return fmt.Errorf("create request: %w", err)
		}
		for _, v := range values {
			if err := tx.G.Create(&SubjectIdentifier{RequestID: r.ID, Value: v}).Error; err != nil {
				return fmt.Errorf("index request identifier: %w", err)
			}
		}
		text := fmt.Sprintf("Received by %s from %s (%s).", r.Channel, firstNonEmptyString(r.RequesterName, r.RequesterEmail, r.RequesterPhone), strings.ReplaceAll(r.Relationship, "_", " "))
		if r.SuggestedType != "" && r.Type == nil {
			text += " Suggested type from the text: " + r.SuggestedType + "."
		}
		tx.event(r.ID, "received", text)
		tx.Audit(Audit{Action: "request.create", ObjectType: "request", ObjectID: r.ID, CustomerID: derefString(r.CustomerID),
			Details: map[string]any{"reference": r.Reference, "type": r.TypeOr(""), "regime": r.Regime, "channel": r.Channel}})
		if err := tx.mailRequester(r, MailAcknowledgement, r.mailData()); err != nil {
			return err
		}
		if err := tx.stopAtOnce(r); err != nil {
			return err
		}
		if then != nil {
			return then(tx, r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// applyDeadlines computes the request's dates from its regime, type and
// receipt (an untriaged request is held to the strictest rule).
func (r *PrivacyRequest) applyDeadlines(biz Business) {
	d := ComputeDeadlines(r.Regime, r.TypeOr(TypeOther), r.ReceivedAt, biz.Loc, biz.Calendar, biz.Policy)
	r.DueOn = d.DueOn.String()
	r.AckDueOn = nil
	if d.AckDueOn != nil {
		s := d.AckDueOn.String()
		r.AckDueOn = &s
	}
}

func (t *Tx) nextReference(year int) (string, error) {
	// One row per year; the upsert both creates and locks it, so concurrent
	// requests get distinct, gap-free numbers.
	err := t.G.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "year"}},
		DoUpdates: clause.Assignments(map[string]any{"last": gorm.Expr("request_counters.last + 1")})}).
		Create(&requestCounter{Year: year, Last: 1}).Error
	if err != nil {
		return "", fmt.Errorf("allocate reference: %w", err)
	}
	var c requestCounter
	if err := t.G.First(&c, "year = ?", year).Error; err != nil {
		return "", fmt.Errorf("allocate reference: %w", err)
	}
	return fmt.Sprintf("PR-%d-%06d", year, c.Last), nil
}

func (t *Tx) event(requestID, kind, text string) {
	// Timeline entries are written at once: they are part of the change.
	t.G.Create(&RequestEvent{RequestID: requestID, ID: uuid.Must(uuid.NewV7()).String(), At: Now(),
		ActorType: t.Actor.Type, ActorLabel: t.Actor.Label, Kind: kind, Text: text})
}

func derefString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func firstNonEmptyString(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// requestScope limits requests to what the actor may see: staff see all; a
// customer user sees requests concerning its customer or routed to it.
func requestScope(actor Actor) func(*gorm.DB) *gorm.DB {
	return func(g *gorm.DB) *gorm.DB {
		if actor.Staff() {
			return g
		}
		return g.Where("privacy_requests.customer_id = ? OR privacy_requests.id IN (SELECT request_id FROM routed_tasks WHERE customer_id = ?)",
			actor.CustomerID, actor.CustomerID)
	}
}

// Request loads one request the actor may see.
func (db *DB) Request(ctx context.Context, actor Actor, id string) (*PrivacyRequest, error) {
	if !validID(id) {
		return nil, ErrNotFound
	}
	var r PrivacyRequest
	if err := db.Gorm.WithContext(ctx).Scopes(requestScope(actor)).First(&r, "id = ?", id).Error; err != nil {
		return nil, notFound(err)
	}
	return &r, nil
}

// RequestsByEmail lists requests whose requester or subject has the email,
// newest first.
func (db *DB) RequestsByEmail(ctx context.Context, actor Actor, email string) ([]PrivacyRequest, error) {
	email, err := NormalizeEmail("email", email)
	if err != nil {
		return nil, err
	}
	var rs []PrivacyRequest
	err = db.Gorm.WithContext(ctx).Scopes(requestScope(actor)).
		Where("requester_email = ? OR id IN (SELECT request_id FROM request_identifiers WHERE value = ?)", email, email).
		Order("received_at DESC").Limit(200).Find(&rs).Error
	if err != nil {
		return nil, fmt.Errorf("find requests: %w", err)
	}
	return rs, nil
}

// Timeline lists a request's events in order.
func (db *DB) Timeline(ctx context.Context, r *PrivacyRequest) ([]RequestEvent, error) {
	var evs []RequestEvent
	if err := db.Gorm.WithContext(ctx).Where("request_id = ?", r.ID).Order("at, id").Find(&evs).Error; err != nil {
		return nil, fmt.Errorf("read timeline: %w", err)
	}
	return evs, nil
}

// updateRequest loads a request for change inside tx, applies fn, saves it
// and audits the change under action.
func (t *Tx) updateRequest(id, action string, fn func(r *PrivacyRequest) (string, map[string]any, error)) (*PrivacyRequest, error) {
	if !validID(id) {
		return nil, ErrNotFound
	}
	var r PrivacyRequest
	q := t.G.Scopes(requestScope(t.Actor))
	if t.dialect == Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	if err := q.First(&r, "id = ?", id).Error; err != nil {
		return nil, notFound(err)
	}
	text, details, err := fn(&r)
	if err != nil {
		return nil, err
	}
	r.UpdatedAt = Now()
	if err := t.G.Save(&r).Error; err != nil {
		return nil, fmt.Errorf("save request: %w", err)
	}
	if text != "" {
		t.event(r.ID, strings.TrimPrefix(action, "request."), text)
	}
	if details == nil {
		details = map[string]any{}
	}
	details["reference"] = r.Reference
	t.Audit(Audit{Action: action, ObjectType: "request", ObjectID: r.ID, CustomerID: derefString(r.CustomerID), Details: details})
	return &r, nil
}

// ErrTransition is a status change the lifecycle does not allow.
func errTransition(from, to string) error {
	return &ConflictError{Field: "status", Message: fmt.Sprintf("a request that is %s cannot become %s", strings.ReplaceAll(from, "_", " "), strings.ReplaceAll(to, "_", " "))}
}

// SetStatus moves a request along its lifecycle (see ChangeStatus).
func (db *DB) SetStatus(ctx context.Context, actor Actor, id, to, note string) (*PrivacyRequest, error) {
	return db.ChangeStatus(ctx, actor, id, StatusChange{To: to, Note: note})
}

// ChangeStatus moves a request along its lifecycle. Denial needs a reason,
// which is shown to the requester. Completion is refused while a
// controller has not answered, naming it, unless ch.Override says why
// (kept on the timeline and in the audit entry); the outcome recorded is
// compliance in whole only when every business informed complied and
// Sendara acted at each (outcomeOf), in part otherwise. The completion and
// denial mails list what happened at each business.
func (db *DB) ChangeStatus(ctx context.Context, actor Actor, id string, ch StatusChange) (*PrivacyRequest, error) {
	note, override := strings.TrimSpace(ch.Note), strings.TrimSpace(ch.Override)
	to := ch.To
	var out *PrivacyRequest
	err := db.Tx(ctx, actor, func(tx *Tx) error {
		var err error
		out, err = tx.updateRequest(id, "request.status", func(r *PrivacyRequest) (string, map[string]any, error) {
			if !slices.Contains(transitions[r.Status], to) {
				return "", nil, errTransition(r.Status, to)
			}
			if to == StatusDenied && note == "" {
				return "", nil, Invalid("reason", "a denial needs a reason; it is shown to the requester")
			}
			if to == StatusCompleted && r.Type == nil {
				return "", nil, Invalid("type", "set the request's type before completing it")
			}
			from := r.Status
			details := map[string]any{"from": from, "to": to}
			text := fmt.Sprintf("Status %s → %s.", from, to)
			if note != "" {
				text += " " + note
				// The why belongs in the chain, not only on the timeline.
				details[map[bool]string{true: "reason", false: "note"}[to == StatusDenied]] = note
			}
			now := Now()
			r.Status = to
			switch to {
			case StatusDenied:
				r.DenialReason, r.Outcome, r.CompletedAt = note, OutcomeDenied, &now
			case StatusCompleted:
				o, err := outcomeOf(tx.G, r)
				if err != nil {
					return "", nil, err
				}
				if len(o.Pending) > 0 {
					if override == "" {
						return "", nil, &ConflictError{Field: "override", Message: fmt.Sprintf(
							"%s %s not answered yet: wait for the answer, or record why the request is completed without it",
							MailList(o.Pending).String(), map[bool]string{true: "has", false: "have"}[len(o.Pending) == 1])}
					}
					text += fmt.Sprintf(" Completed without the answer of %s. Override: %s", MailList(o.Pending).String(), override)
					details["override"], details["pending"] = override, o.Pending
				}
				outcome, whole := o.record(note)
				r.Outcome, r.CompletedAt = outcome, &now
				details["outcome"] = map[bool]string{true: OutcomeComplied, false: OutcomeCompliedInPart}[whole]
				if !whole {
					text += " Recorded as complied with in part: " + strings.TrimPrefix(outcome, "Partial: ")
				}
			case StatusWithdrawn:
				r.Outcome, r.CompletedAt = OutcomeWithdrawn, &now
			}
			return text, details, nil
		})
		if err != nil {
			return err
		}
		switch out.Status {
		case StatusCompleted:
			return tx.mailOutcome(out, MailCompletion, ch.LinkFor)
		case StatusDenied:
			return tx.mailOutcome(out, MailDenial, nil)
		}
		return nil
	})
	return out, err
}

// Triage sets the request's type and regime; its deadlines are computed
// again from the receipt.
func (db *DB) Triage(ctx context.Context, actor Actor, biz Business, id, typ, regime string) (*PrivacyRequest, error) {
	if _, err := ParseRequestType(typ); err != nil {
		return nil, err
	}
	if _, err := ParseRegime(regime); err != nil {
		return nil, err
	}
	var out *PrivacyRequest
	err := db.Tx(ctx, actor, func(tx *Tx) error {
		var err error
		out, err = tx.updateRequest(id, "request.triage", func(r *PrivacyRequest) (string, map[string]any, error) {
			if Closed(r.Status) {
				return "", nil, &ConflictError{Field: "type", Message: "the request is closed"}
			}
			before := map[string]any{"type": r.TypeOr(""), "regime": r.Regime, "due_on": r.DueOn}
			r.Type, r.Regime = &typ, regime
			r.applyDeadlines(biz)
			return fmt.Sprintf("Type %s, regime %s; due %s.", typ, regime, r.DueOn), map[string]any{"before": before,
				"after": map[string]any{"type": typ, "regime": regime, "due_on": r.DueOn}}, nil
		})
		if err != nil {
			return err
		}
		// A request triaged as one to stop contact is applied at once.
		return tx.stopAtOnce(out)
	})
	return out, err
}

// AddNote adds a note to the timeline.
func (db *DB) AddNote(ctx context.Context, actor Actor, id, note string) error {
	note = strings.TrimSpace(note)
	if note == "" || len(note) > 10000 {
		return Invalid("note", "write a note of at most 10000 characters")
	}
	return db.Tx(ctx, actor, func(tx *Tx) error {
		_, err := tx.updateRequest(id, "request.note", func(r *PrivacyRequest) (string, map[string]any, error) {
			return note, nil, nil
		})
		return err
	})
}

// Assign gives the request to a staff user (or nobody, with "").
func (db *DB) Assign(ctx context.Context, actor Actor, id, userID string) error {
	return db.Tx(ctx, actor, func(tx *Tx) error {
		label := "nobody"
		if userID != "" {
			u, err := scopedUserForUpdate(tx, userID)
			if err != nil || u.CustomerID != nil || u.Disabled() {
				return Invalid("assignee", "choose an active Sendara staff user")
			}
			label = u.Email
		}
		_, err := tx.updateRequest(id, "request.assign", func(r *PrivacyRequest) (string, map[string]any, error) {
			if userID == "" {
				r.AssigneeID = nil
			} else {
				r.AssigneeID = &userID
			}
			return "Assigned to " + label + ".", map[string]any{"assignee": label}, nil
		})
		return err
	})
}

// Verification methods.
var VerificationMethods = []string{"email_link", "email_reply", "phone_call", "id_document", "account_login", "matched_records", "other"}

// VerifyManually records a verification done by a person, with its method
// and a note.
func (db *DB) VerifyManually(ctx context.Context, actor Actor, id, method, note string) (*PrivacyRequest, error) {
	if !slices.Contains(VerificationMethods, method) {
		return nil, Invalid("method", "must be one of %s", strings.Join(VerificationMethods, ", "))
	}
	note = strings.TrimSpace(note)
	if note == "" {
		return nil, Invalid("note", "say what was checked")
	}
	return db.markVerified(ctx, actor, id, method, note, "request.verify")
}

// SkipVerification moves a request on without verifying the requester; the
// reason is required and recorded (DESIGN §3).
func (db *DB) SkipVerification(ctx context.Context, actor Actor, id, reason string) (*PrivacyRequest, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, Invalid("reason", "skipping verification needs a recorded reason")
	}
	return db.markVerified(ctx, actor, id, "skipped", reason, "request.verify_skip")
}

// markVerified verifies the request and, as staff vouch for the whole of
// it, every identifier it has now (the note says what was checked).
func (db *DB) markVerified(ctx context.Context, actor Actor, id, method, note, action string) (*PrivacyRequest, error) {
	var out *PrivacyRequest
	err := db.Tx(ctx, actor, func(tx *Tx) error {
		var err error
		out, err = tx.updateRequest(id, action, func(r *PrivacyRequest) (string, map[string]any, error) {
			return r.verify(method, note)
		})
		if err != nil {
			return err
		}
		return tx.verifyIdentifiers(out.ID, nil, method, note)
	})
	return out, err
}

// verifyIdentifiers marks values of the request (nil: all of them)
// verified by method, leaving those verified already as they were.
func (t *Tx) verifyIdentifiers(requestID string, values []string, method, note string) error {
	q := t.G.Model(&SubjectIdentifier{}).Where("request_id = ? AND verified_at IS NULL", requestID)
	if values != nil {
		q = q.Where("value IN ?", values)
	}
	if err := q.Updates(map[string]any{"verified_at": Now(), "verification_method": method, "verification_note": note}).Error; err != nil {
		return fmt.Errorf("verify identifiers: %w", err)
	}
	return nil
}

// subjectIdentifiers lists the request's identifiers with their
// verification, in the order they were given.
func subjectIdentifiers(g *gorm.DB, r *PrivacyRequest) ([]SubjectIdentifier, error) {
	var rows []SubjectIdentifier
	if err := g.Where("request_id = ?", r.ID).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read the subject's identifiers: %w", err)
	}
	order := r.Identifiers()
	slices.SortFunc(rows, func(a, b SubjectIdentifier) int { return slices.Index(order, a.Value) - slices.Index(order, b.Value) })
	return rows, nil
}

// usableIdentifiers are the identifiers search, routing and fulfilment may
// use: the verified ones, or all of them for a request to stop contact,
// which needs no verification (CCPA §7026).
func usableIdentifiers(g *gorm.DB, r *PrivacyRequest) ([]string, error) {
	if _, stop := stopRequested(r); stop {
		return r.Identifiers(), nil
	}
	ids, err := subjectIdentifiers(g, r)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, id := range ids {
		if id.VerifiedAt != nil {
			out = append(out, id.Value)
		}
	}
	return out, nil
}

// SubjectIdentifiers lists a request's identifiers with their verification.
func (db *DB) SubjectIdentifiers(ctx context.Context, r *PrivacyRequest) ([]SubjectIdentifier, error) {
	return subjectIdentifiers(db.Gorm.WithContext(ctx), r)
}

// UsableIdentifiers are the identifiers of r that search, routing and
// fulfilment use (see usableIdentifiers).
func (db *DB) UsableIdentifiers(ctx context.Context, r *PrivacyRequest) ([]string, error) {
	return usableIdentifiers(db.Gorm.WithContext(ctx), r)
}

// VerifyIdentifier records that staff verified one identifier of the
// request by method (a call-back to a phone, a reply from an address…),
// with a note of what was checked; audited as request.verify_identifier.
func (db *DB) VerifyIdentifier(ctx context.Context, actor Actor, id, value, method, note string) error {
	if !slices.Contains(VerificationMethods, method) {
		return Invalid("method", "must be one of %s", strings.Join(VerificationMethods, ", "))
	}
	if note = strings.TrimSpace(note); note == "" {
		return Invalid("note", "say what was checked")
	}
	return db.Tx(ctx, actor, func(tx *Tx) error {
		_, err := tx.updateRequest(id, "request.verify_identifier", func(r *PrivacyRequest) (string, map[string]any, error) {
			if Closed(r.Status) {
				return "", nil, &ConflictError{Field: "identifier", Message: "the request is closed"}
			}
			res := tx.G.Model(&SubjectIdentifier{}).Where("request_id = ? AND value = ? AND verified_at IS NULL", r.ID, value).
				Updates(map[string]any{"verified_at": Now(), "verification_method": method, "verification_note": note})
			if res.Error != nil {
				return "", nil, fmt.Errorf("verify identifier: %w", res.Error)
			}
			if res.RowsAffected != 1 {
				return "", nil, Invalid("identifier", "choose an unverified identifier of this request")
			}
			return fmt.Sprintf("Identifier %s verified by %s: %s", value, strings.ReplaceAll(method, "_", " "), note),
				map[string]any{"identifier": value, "method": method}, nil
		})
		return err
	})
}

func (r *PrivacyRequest) verify(method, note string) (string, map[string]any, error) {
	if r.Status != StatusReceived && r.Status != StatusVerifying {
		return "", nil, errTransition(r.Status, StatusVerified)
	}
	now := Now()
	r.Status, r.VerifiedAt, r.VerificationMethod, r.VerificationNote = StatusVerified, &now, method, note
	text := "Verified by " + strings.ReplaceAll(method, "_", " ") + ": " + note
	if method == "skipped" {
		text = "Verification skipped: " + note
	}
	details := map[string]any{"method": method}
	if method == "skipped" {
		details["reason"] = note
	} else if note != "" {
		details["note"] = note
	}
	return text, details, nil
}

// Extend extends the due date, with a reason that is sent to the
// requester; only where the regime allows and within the first period.
func (db *DB) Extend(ctx context.Context, actor Actor, biz Business, id, reason string) (*PrivacyRequest, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, Invalid("reason", "an extension needs reasons; they are sent to the requester")
	}
	var out *PrivacyRequest
	err := db.Tx(ctx, actor, func(tx *Tx) error {
		var err error
		out, err = tx.updateRequest(id, "request.extend", func(r *PrivacyRequest) (string, map[string]any, error) {
			if Closed(r.Status) {
				return "", nil, &ConflictError{Field: "extension", Message: "the request is closed"}
			}
			if r.ExtendedTo != nil {
				return "", nil, &ConflictError{Field: "extension", Message: "the request was already extended to " + *r.ExtendedTo}
			}
			d := ComputeDeadlines(r.Regime, r.TypeOr(TypeOther), r.ReceivedAt, biz.Loc, biz.Calendar, biz.Policy)
			if err := CanExtend(r.Regime, r.TypeOr(TypeOther), d, TodayIn(biz.Loc)); err != nil {
				return "", nil, err
			}
			to := d.ExtendedDueOn.String()
			now := Now()
			r.ExtendedTo, r.ExtensionReason, r.ExtensionNoticeAt = &to, reason, &now
			return fmt.Sprintf("Extended to %s. Reasons: %s", to, reason), map[string]any{"to": to, "reason": reason}, nil
		})
		if err != nil {
			return err
		}
		return tx.mailRequester(out, MailExtension, out.mailData())
	})
	return out, err
}

// RequestFilter narrows the request list. View is one of the saved views
// (or a dashboard's, models/dashboard_views.go).
type RequestFilter struct {
	View       string // "", mine, due_this_week, overdue, awaiting_controller, open, closed
	Status     string
	Type       string
	CustomerID string // the request's customer or one it was routed to
	DueBefore  string // YYYY-MM-DD: due (in force) on or before this day
	Query      string // reference, requester email or subject identifier
	UserID     string // for "mine"
	Today      string // YYYY-MM-DD in the business time zone
	WeekEnd    string // YYYY-MM-DD
	Limit      int
	ClosedOK   bool
}

// requestQuery builds the list's query without order or limit.
func (db *DB) requestQuery(ctx context.Context, actor Actor, f *RequestFilter) (*gorm.DB, error) {
	open := OpenStatuses
	due := "COALESCE(extended_to, due_on)"
	q := db.Gorm.WithContext(ctx).Model(&PrivacyRequest{}).Scopes(requestScope(actor))
	switch f.View {
	case "mine":
		q = q.Where("assignee_id = ? AND status IN ?", f.UserID, open)
	case "due_this_week":
		q = q.Where("status IN ? AND "+due+" <= ?", open, f.WeekEnd)
	case "overdue":
		// A request waiting on its requester has its clock stopped: its
		// due date moves on when they answer.
		q = q.Where("status IN ? AND status <> ? AND "+due+" < ?", open, StatusWaiting, f.Today)
	case "awaiting_controller":
		q = q.Where("status = ?", StatusWithController)
	case "closed":
		q = q.Where("status NOT IN ?", open)
	case "", "open":
		if f.Status == "" {
			q = q.Where("status IN ?", open)
		}
	default:
		var ok bool
		if q, ok = dashboardView(q, f); !ok {
			return nil, Invalid("view", "unknown view %q", f.View)
		}
	}
	if f.Status != "" {
		if !slices.Contains(RequestStatuses, f.Status) {
			return nil, Invalid("status", "unknown status")
		}
		q = q.Where("status = ?", f.Status)
	}
	if f.Type != "" {
		q = q.Where("type = ?", f.Type)
	}
	if f.CustomerID != "" {
		if !validID(f.CustomerID) {
			return nil, Invalid("customer", "no such customer")
		}
		q = q.Where("privacy_requests.customer_id = ? OR privacy_requests.id IN (SELECT request_id FROM routed_tasks WHERE customer_id = ?)",
			f.CustomerID, f.CustomerID)
	}
	if f.DueBefore != "" {
		if _, err := ParseDate(f.DueBefore); err != nil {
			return nil, Invalid("due_before", "give a date as YYYY-MM-DD")
		}
		q = q.Where(due+" <= ?", f.DueBefore)
	}
	if query := strings.TrimSpace(f.Query); query != "" {
		like := strings.ToLower(query)
		q = q.Where("reference = ? OR requester_email = ? OR id IN (SELECT request_id FROM request_identifiers WHERE value = ?)",
			strings.ToUpper(query), like, like)
	}
	return q, nil
}

// ListRequests lists requests the actor may see, soonest due first.
func (db *DB) ListRequests(ctx context.Context, actor Actor, f RequestFilter) ([]PrivacyRequest, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 200
	}
	q, err := db.requestQuery(ctx, actor, &f)
	if err != nil {
		return nil, err
	}
	var rs []PrivacyRequest
	if err := q.Order("COALESCE(extended_to, due_on), received_at").Limit(f.Limit).Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("list requests: %w", err)
	}
	return rs, nil
}

// CountRequests counts the requests the filter finds.
func (db *DB) CountRequests(ctx context.Context, actor Actor, f RequestFilter) (int64, error) {
	q, err := db.requestQuery(ctx, actor, &f)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count requests: %w", err)
	}
	return n, nil
}

// RequestsAbout lists the requests the actor may see whose subject has
// any of the identifiers, newest first: the contact page's case history.
func (db *DB) RequestsAbout(ctx context.Context, actor Actor, values []string) ([]PrivacyRequest, error) {
	if len(values) == 0 {
		return nil, nil
	}
	var rs []PrivacyRequest
	err := db.Gorm.WithContext(ctx).Scopes(requestScope(actor)).
		Where("id IN (SELECT request_id FROM request_identifiers WHERE value IN ?)", values).
		Order("received_at DESC").Limit(50).Find(&rs).Error
	if err != nil {
		return nil, fmt.Errorf("find requests about a contact: %w", err)
	}
	return rs, nil
}
