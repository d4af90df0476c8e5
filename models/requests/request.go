package requests

import (
	calendar "github.com/sendara/console/models/calendar"
	consent "github.com/sendara/console/models/consent"

	customers "github.com/sendara/console/models/customers"

	errs "github.com/sendara/console/models/errs"

	outbox "github.com/sendara/console/models/outbox"

	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	store "github.com/sendara/console/models/store"
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

// Transitions says which status may follow which. Denial and withdrawal
// are possible until the request is closed; completion from work in
// progress, or with the controllers when staff override a missing answer
// (ChangeStatus). Verification may be skipped only through SkipVerification,
// which records a reason. Only routing (Route) moves a request to the
// controllers: a plain status change would say "with the controllers" while
// none was told.
var Transitions = map[string][]string{
	StatusReceived:       {StatusVerifying, StatusDenied, StatusWithdrawn},
	StatusVerifying:      {StatusDenied, StatusWithdrawn},
	StatusVerified:       {StatusInProgress, StatusDenied, StatusWithdrawn},
	StatusWithController: {StatusInProgress, StatusCompleted, StatusDenied, StatusWithdrawn},
	StatusInProgress:     {StatusCompleted, StatusDenied, StatusWithdrawn},
	// The requester's answer resumes the request (RequesterAnswered).
	StatusWaiting: {StatusDenied, StatusWithdrawn},
}

// NextStatuses lists the statuses a request may move to from status by a
// plain status change (ChangeStatus).
func NextStatuses(status string) []string { return slices.Clone(Transitions[status]) }

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
	ProofOverride      string // why an agent's or parent's request proceeds without a checked proof
	SubjectIdentifiers string // JSON array of normalized identifiers
	CustomerID         *string
	AssigneeID         *string
	Details            string
	ReceivedAt         time.Time
	VerifiedAt         *time.Time
	VerificationMethod string
	VerificationNote   string
	AckDueOn           *calendar.Date
	DueOn              calendar.Date
	ExtendedTo         *calendar.Date
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
func (r *PrivacyRequest) EffectiveDueOn() calendar.Date {
	if r.ExtendedTo != nil {
		return *r.ExtendedTo
	}
	return r.DueOn
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
		if _, err := calendar.ParseRequestType(in.Type); err != nil {
			return nil, err
		}
	}
	in.Regime = strings.TrimSpace(in.Regime)
	if in.Regime == "" {
		in.Regime = calendar.RegimeOther
	}
	if _, err := calendar.ParseRegime(in.Regime); err != nil {
		return nil, err
	}
	if !slices.Contains(RequestChannels, in.Channel) {
		return nil, errs.Invalid("channel", "must be one of %s", strings.Join(RequestChannels, ", "))
	}
	r := &in.Requester
	if r.Relationship == "" {
		r.Relationship = "end_user"
	}
	if !slices.Contains(Relationships, r.Relationship) {
		return nil, errs.Invalid("requester.relationship", "must be one of %s", strings.Join(Relationships, ", "))
	}
	r.Name = CleanName(r.Name) // it goes into mail headers and bodies
	if len(r.Name) > 200 || len(r.Proof) > 4000 || len(in.Details) > 20000 {
		return nil, errs.Invalid("requester", "name, proof or details are too long")
	}
	if r.Email != "" {
		email, err := store.NormalizeEmail("requester.email", r.Email)
		if err != nil {
			return nil, err
		}
		r.Email = email
	}
	if r.Phone != "" {
		id, err := store.NormalizeIdentifier("requester.phone", r.Phone, region)
		if err != nil || id.Kind != store.KindPhone {
			return nil, errs.Invalid("requester.phone", "is not a valid phone number")
		}
		r.Phone = id.Value
	}
	if r.Email == "" && r.Phone == "" {
		return nil, errs.Invalid("requester.email", "give an email or a phone number so the requester can be answered")
	}
	ids, err := consent.NormalizeAll("subject_identifiers", in.Identifiers, region)
	if err != nil {
		return nil, err
	}
	values := consent.IdentifierValues(ids)
	if len(values) == 0 && r.Relationship == "end_user" {
		// The requester is the subject: their own contact details identify them.
		for _, v := range []string{r.Email, r.Phone} {
			if v != "" {
				values = append(values, v)
			}
		}
	}
	if len(values) == 0 {
		return nil, errs.Invalid("subject_identifiers", "give the phone numbers or emails of the person the request is about")
	}
	if (r.Relationship == "authorized_agent" || r.Relationship == "parent") && strings.TrimSpace(r.Proof) == "" && in.Channel != "email" {
		return nil, errs.Invalid("requester.proof", "an authorized agent or parent must show their authority (a signed permission, a power of attorney, proof of parenthood)")
	}
	return values, nil
}

// CreateRequest records a request from any intake channel with its
// deadlines, reference and first timeline entry, in one transaction.
func (db *RequestStore) CreateRequest(ctx context.Context, actor store.Actor, biz calendar.Business, in RequestInput, region string) (*PrivacyRequest, error) {
	return db.CreateRequestThen(ctx, actor, biz, in, region, nil)
}

// CreateRequestThen is CreateRequest with more work in the same
// transaction once the request exists (the acknowledgement, a confirmation
// link and its email): all of it is written, or none.
func (db *RequestStore) CreateRequestThen(ctx context.Context, actor store.Actor, biz calendar.Business, in RequestInput, region string, then func(tx *store.Tx, r *PrivacyRequest) error) (*PrivacyRequest, error) {
	values, err := in.normalize(region)
	if err != nil {
		return nil, err
	}
	now := store.Now()
	if in.ReceivedAt.IsZero() {
		in.ReceivedAt = now
	}
	in.ReceivedAt = in.ReceivedAt.UTC().Truncate(time.Microsecond)
	if in.ReceivedAt.After(now.Add(consent.FutureSkew)) {
		return nil, errs.Invalid("received_at", "is in the future")
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
		if !store.ValidID(in.CustomerID) {
			return nil, errs.Invalid("customer", "no such customer")
		}
		r.CustomerID = &in.CustomerID
	}
	r.applyDeadlines(biz)
	err = db.Tx(ctx, actor, func(tx *store.Tx) error {
		if r.CustomerID != nil {
			var n int64
			if err := tx.G.Model(&customers.Customer{}).Where("id = ?", *r.CustomerID).Count(&n).Error; err != nil || n == 0 {
				return errs.Invalid("customer", "no such customer")
			}
		}
		ref, err := nextReference(tx, in.ReceivedAt.In(biz.Loc).Year())
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
		text := fmt.Sprintf("Received by %s from %s (%s).", r.Channel, store.FirstNonEmptyString(r.RequesterName, r.RequesterEmail, r.RequesterPhone), strings.ReplaceAll(r.Relationship, "_", " "))
		if r.SuggestedType != "" && r.Type == nil {
			text += " Suggested type from the text: " + r.SuggestedType + "."
		}
		tx.Event(r.ID, "received", text)
		tx.Audit(store.Audit{Action: "request.create", ObjectType: "request", ObjectID: r.ID, CustomerID: store.DerefString(r.CustomerID),
			Details: map[string]any{"reference": r.Reference, "type": r.TypeOr(""), "regime": r.Regime, "channel": r.Channel}})
		if err := MailRequester(tx, r, outbox.MailAcknowledgement, r.MailData()); err != nil {
			return err
		}
		if err := stopAtOnce(tx, r); err != nil {
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
func (r *PrivacyRequest) applyDeadlines(biz calendar.Business) {
	d := calendar.ComputeDeadlines(r.Regime, r.TypeOr(calendar.TypeOther), r.ReceivedAt, biz.Loc, biz.Calendar, biz.Policy)
	r.DueOn = d.DueOn
	r.AckDueOn = nil
	if d.AckDueOn != nil {
		ack := *d.AckDueOn
		r.AckDueOn = &ack
	}
}

func nextReference(t *store.Tx, year int) (string, error) {
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

// RequestScope limits requests to what the actor may see: staff see all; a
// customer user sees requests concerning its customer or routed to it.
func RequestScope(actor store.Actor) func(*gorm.DB) *gorm.DB {
	return func(g *gorm.DB) *gorm.DB {
		if actor.Staff() {
			return g
		}
		return g.Where("privacy_requests.customer_id = ? OR privacy_requests.id IN (SELECT request_id FROM routed_tasks WHERE customer_id = ?)",
			actor.CustomerID, actor.CustomerID)
	}
}

// Request loads one request the actor may see.
func (db *RequestStore) Request(ctx context.Context, actor store.Actor, id string) (*PrivacyRequest, error) {
	if !store.ValidID(id) {
		return nil, store.ErrNotFound
	}
	var r PrivacyRequest
	if err := db.Gorm.WithContext(ctx).Scopes(RequestScope(actor)).First(&r, "id = ?", id).Error; err != nil {
		return nil, store.NotFound(err)
	}
	return &r, nil
}

// RequestsByEmail lists requests whose requester or subject has the email,
// newest first.
func (db *RequestStore) RequestsByEmail(ctx context.Context, actor store.Actor, email string) ([]PrivacyRequest, error) {
	email, err := store.NormalizeEmail("email", email)
	if err != nil {
		return nil, err
	}
	var rs []PrivacyRequest
	err = db.Gorm.WithContext(ctx).Scopes(RequestScope(actor)).
		Where("requester_email = ? OR id IN (SELECT request_id FROM request_identifiers WHERE value = ?)", email, email).
		Order("received_at DESC").Limit(200).Find(&rs).Error
	if err != nil {
		return nil, fmt.Errorf("find requests: %w", err)
	}
	return rs, nil
}

// Timeline lists a request's events in order.
func (db *RequestStore) Timeline(ctx context.Context, r *PrivacyRequest) ([]store.RequestEvent, error) {
	var evs []store.RequestEvent
	if err := db.Gorm.WithContext(ctx).Where("request_id = ?", r.ID).Order("at, id").Find(&evs).Error; err != nil {
		return nil, fmt.Errorf("read timeline: %w", err)
	}
	return evs, nil
}

// UpdateRequest loads a request for change inside tx, applies fn, saves it
// and audits the change under action.
func UpdateRequest(t *store.Tx, id, action string, fn func(r *PrivacyRequest) (string, map[string]any, error)) (*PrivacyRequest, error) {
	if !store.ValidID(id) {
		return nil, store.ErrNotFound
	}
	var r PrivacyRequest
	q := t.G.Scopes(RequestScope(t.Actor))
	if t.Dialect == store.Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	if err := q.First(&r, "id = ?", id).Error; err != nil {
		return nil, store.NotFound(err)
	}
	text, details, err := fn(&r)
	if err != nil {
		return nil, err
	}
	r.UpdatedAt = store.Now()
	if err := t.G.Save(&r).Error; err != nil {
		return nil, fmt.Errorf("save request: %w", err)
	}
	if text != "" {
		t.Event(r.ID, strings.TrimPrefix(action, "request."), text)
	}
	if details == nil {
		details = map[string]any{}
	}
	details["reference"] = r.Reference
	t.Audit(store.Audit{Action: action, ObjectType: "request", ObjectID: r.ID, CustomerID: store.DerefString(r.CustomerID), Details: details})
	return &r, nil
}

// ErrTransition is a status change the lifecycle does not allow.
func ErrTransition(from, to string) error {
	return &errs.ConflictError{Field: "status", Message: fmt.Sprintf("a request that is %s cannot become %s", strings.ReplaceAll(from, "_", " "), strings.ReplaceAll(to, "_", " "))}
}

// Triage sets the request's type and regime; its deadlines are computed
// again from the receipt.
func (db *RequestStore) Triage(ctx context.Context, actor store.Actor, biz calendar.Business, id, typ, regime string) (*PrivacyRequest, error) {
	if _, err := calendar.ParseRequestType(typ); err != nil {
		return nil, err
	}
	if _, err := calendar.ParseRegime(regime); err != nil {
		return nil, err
	}
	var out *PrivacyRequest
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		var err error
		out, err = UpdateRequest(tx, id, "request.triage", func(r *PrivacyRequest) (string, map[string]any, error) {
			if Closed(r.Status) {
				return "", nil, &errs.ConflictError{Field: "type", Message: "the request is closed"}
			}
			before := map[string]any{"type": r.TypeOr(""), "regime": r.Regime, "due_on": r.DueOn}
			r.Type, r.Regime = &typ, regime
			r.applyDeadlines(biz)
			return fmt.Sprintf("Type %s, regime %s; due %s.", strings.ReplaceAll(typ, "_", " "), strings.ReplaceAll(regime, "_", " "), r.DueOn), map[string]any{"before": before,
				"after": map[string]any{"type": typ, "regime": regime, "due_on": r.DueOn}}, nil
		})
		if err != nil {
			return err
		}
		// A request triaged as one to stop contact is applied at once.
		return stopAtOnce(tx, out)
	})
	return out, err
}

// AddNote adds a note to the timeline.
func (db *RequestStore) AddNote(ctx context.Context, actor store.Actor, id, note string) error {
	note = strings.TrimSpace(note)
	if note == "" || len(note) > 10000 {
		return errs.Invalid("note", "write a note of at most 10000 characters")
	}
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		_, err := UpdateRequest(tx, id, "request.note", func(r *PrivacyRequest) (string, map[string]any, error) {
			return note, nil, nil
		})
		return err
	})
}

// Assign gives the request to a staff admin or privacy officer (or
// nobody, with ""); the assignee is notified.
func (db *RequestStore) Assign(ctx context.Context, actor store.Actor, id, userID string) error {
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		return Assign(tx, []string{id}, userID, false)
	})
}

// Verification methods.
var VerificationMethods = []string{"email_link", "email_reply", "phone_call", "id_document", "account_login", "matched_records", "other"}

// VerifyManually records a verification done by a person, with its method
// and a note.
func (db *RequestStore) VerifyManually(ctx context.Context, actor store.Actor, id, method, note string) (*PrivacyRequest, error) {
	if !slices.Contains(VerificationMethods, method) {
		return nil, errs.Invalid("method", "must be one of %s", strings.Join(VerificationMethods, ", "))
	}
	note = strings.TrimSpace(note)
	if note == "" {
		return nil, errs.Invalid("note", "say what was checked")
	}
	return db.markVerified(ctx, actor, id, method, note, "request.verify")
}

// SkipVerification moves a request on without verifying the requester; the
// reason is required and recorded (DESIGN §3).
func (db *RequestStore) SkipVerification(ctx context.Context, actor store.Actor, id, reason string) (*PrivacyRequest, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, errs.Invalid("reason", "skipping verification needs a recorded reason")
	}
	return db.markVerified(ctx, actor, id, "skipped", reason, "request.verify_skip")
}

// markVerified verifies the request and, as staff vouch for the whole of
// it, every identifier it has now (the note says what was checked).
func (db *RequestStore) markVerified(ctx context.Context, actor store.Actor, id, method, note, action string) (*PrivacyRequest, error) {
	var out *PrivacyRequest
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		var err error
		out, err = UpdateRequest(tx, id, action, func(r *PrivacyRequest) (string, map[string]any, error) {
			return r.verify(method, note)
		})
		if err != nil {
			return err
		}
		return verifyIdentifiers(tx, out.ID, nil, method, note)
	})
	return out, err
}

// verifyIdentifiers marks values of the request (nil: all of them)
// verified by method, leaving those verified already as they were.
func verifyIdentifiers(t *store.Tx, requestID string, values []string, method, note string) error {
	q := t.G.Model(&SubjectIdentifier{}).Where("request_id = ? AND verified_at IS NULL", requestID)
	if values != nil {
		q = q.Where("value IN ?", values)
	}
	if err := q.Updates(map[string]any{"verified_at": store.Now(), "verification_method": method, "verification_note": note}).Error; err != nil {
		return fmt.Errorf("verify identifiers: %w", err)
	}
	return nil
}

// SubjectIdentifiers lists the request's identifiers with their
// verification, in the order they were given.
func SubjectIdentifiers(g *gorm.DB, r *PrivacyRequest) ([]SubjectIdentifier, error) {
	var rows []SubjectIdentifier
	if err := g.Where("request_id = ?", r.ID).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read the subject's identifiers: %w", err)
	}
	order := r.Identifiers()
	slices.SortFunc(rows, func(a, b SubjectIdentifier) int { return slices.Index(order, a.Value) - slices.Index(order, b.Value) })
	return rows, nil
}

// UsableIdentifiers are the identifiers search, routing and fulfilment may
// use: the verified ones, or all of them for a request to stop contact,
// which needs no verification (CCPA §7026).
func UsableIdentifiers(g *gorm.DB, r *PrivacyRequest) ([]string, error) {
	if _, stop := stopRequested(r); stop {
		return r.Identifiers(), nil
	}
	ids, err := SubjectIdentifiers(g, r)
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
func (db *RequestStore) SubjectIdentifiers(ctx context.Context, r *PrivacyRequest) ([]SubjectIdentifier, error) {
	return SubjectIdentifiers(db.Gorm.WithContext(ctx), r)
}

// UsableIdentifiers are the identifiers of r that search, routing and
// fulfilment use (see usableIdentifiers).
func (db *RequestStore) UsableIdentifiers(ctx context.Context, r *PrivacyRequest) ([]string, error) {
	return UsableIdentifiers(db.Gorm.WithContext(ctx), r)
}

// VerifyIdentifier records that staff verified one identifier of the
// request by method (a call-back to a phone, a reply from an address…),
// with a note of what was checked; audited as request.verify_identifier.
//
// When the request was routed already, the identifier goes to the
// controllers holding it at once (routeLate): a new task or an amendment
// to the pending one, mailed with both dates.
func (db *RequestStore) VerifyIdentifier(ctx context.Context, actor store.Actor, biz calendar.Business, id, value, method, note, inboxLink string) error {
	if !slices.Contains(VerificationMethods, method) {
		return errs.Invalid("method", "must be one of %s", strings.Join(VerificationMethods, ", "))
	}
	if note = strings.TrimSpace(note); note == "" {
		return errs.Invalid("note", "say what was checked")
	}
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		_, err := UpdateRequest(tx, id, "request.verify_identifier", func(r *PrivacyRequest) (string, map[string]any, error) {
			if Closed(r.Status) {
				return "", nil, &errs.ConflictError{Field: "identifier", Message: "the request is closed"}
			}
			res := tx.G.Model(&SubjectIdentifier{}).Where("request_id = ? AND value = ? AND verified_at IS NULL", r.ID, value).
				Updates(map[string]any{"verified_at": store.Now(), "verification_method": method, "verification_note": note})
			if res.Error != nil {
				return "", nil, fmt.Errorf("verify identifier: %w", res.Error)
			}
			if res.RowsAffected != 1 {
				return "", nil, errs.Invalid("identifier", "choose an unverified identifier of this request")
			}
			routed, err := routeLate(tx, biz, r, value, inboxLink)
			if err != nil {
				return "", nil, err
			}
			return fmt.Sprintf("Identifier %s verified by %s: %s.%s", value, strings.ReplaceAll(method, "_", " "), strings.TrimSuffix(note, "."), routed),
				map[string]any{"identifier": value, "method": method, "routed_late": routed != ""}, nil
		})
		return err
	})
}

func (r *PrivacyRequest) verify(method, note string) (string, map[string]any, error) {
	if r.Status != StatusReceived && r.Status != StatusVerifying {
		return "", nil, ErrTransition(r.Status, StatusVerified)
	}
	now := store.Now()
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
func (db *RequestStore) Extend(ctx context.Context, actor store.Actor, biz calendar.Business, id, reason string) (*PrivacyRequest, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, errs.Invalid("reason", "an extension needs reasons; they are sent to the requester")
	}
	var out *PrivacyRequest
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		var err error
		out, err = UpdateRequest(tx, id, "request.extend", func(r *PrivacyRequest) (string, map[string]any, error) {
			if Closed(r.Status) {
				return "", nil, &errs.ConflictError{Field: "extension", Message: "the request is closed"}
			}
			if r.ExtendedTo != nil {
				return "", nil, &errs.ConflictError{Field: "extension", Message: "the request was already extended to " + r.ExtendedTo.String()}
			}
			d := calendar.ComputeDeadlines(r.Regime, r.TypeOr(calendar.TypeOther), r.ReceivedAt, biz.Loc, biz.Calendar, biz.Policy)
			if err := calendar.CanExtend(r.Regime, r.TypeOr(calendar.TypeOther), d, calendar.TodayIn(biz.Loc)); err != nil {
				return "", nil, err
			}
			to := d.ExtendedDueOn
			now := store.Now()
			r.ExtendedTo, r.ExtensionReason, r.ExtensionNoticeAt = &to, reason, &now
			return fmt.Sprintf("Extended to %s. Reasons: %s", to, reason), map[string]any{"to": to, "reason": reason}, nil
		})
		if err != nil {
			return err
		}
		return MailRequester(tx, out, outbox.MailExtension, out.MailData())
	})
	return out, err
}

// RequestsAbout lists the requests the actor may see whose subject has
// any of the identifiers, newest first: the contact page's case history.
func (db *RequestStore) RequestsAbout(ctx context.Context, actor store.Actor, values []string) ([]PrivacyRequest, error) {
	if len(values) == 0 {
		return nil, nil
	}
	var rs []PrivacyRequest
	err := db.Gorm.WithContext(ctx).Scopes(RequestScope(actor)).
		Where("id IN (SELECT request_id FROM request_identifiers WHERE value IN ?)", values).
		Order("received_at DESC").Limit(50).Find(&rs).Error
	if err != nil {
		return nil, fmt.Errorf("find requests about a contact: %w", err)
	}
	return rs, nil
}
