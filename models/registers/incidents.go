package registers

import (
	accounts "github.com/sendara/console/models/accounts"
	consent "github.com/sendara/console/models/consent"

	customers "github.com/sendara/console/models/customers"

	errs "github.com/sendara/console/models/errs"

	outbox "github.com/sendara/console/models/outbox"

	requests "github.com/sendara/console/models/requests"

	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Incident is one entry of the breach register: a personal-data breach
// Sendara found or a customer reported, the customers it affects (each with
// its notice deadline) and its timeline.
type Incident struct {
	ID                   string `gorm:"primaryKey"`
	Reference            string
	Title                string
	Description          string
	DataCategories       string // comma-separated IncidentDataCategories
	Status               string
	DiscoveredAt         time.Time
	ReportedByCustomerID *string
	CreatedBy            string
	CreatedAt            time.Time
	UpdatedAt            time.Time

	Customers []IncidentCustomer `gorm:"-"`
	Events    []IncidentEvent    `gorm:"-"`
}

// IncidentCustomer is a customer an incident affects: how many of its
// people, when it must be told and when it was.
type IncidentCustomer struct {
	CustomerID    string `gorm:"primaryKey"`
	IncidentID    string `gorm:"primaryKey"`
	AffectedCount int
	NoticeDueAt   time.Time
	NoticeSentAt  *time.Time
	NoticeMails   int
	AddedAt       time.Time

	CustomerName string `gorm:"-"`
}

// Overdue reports whether the notice is still unsent after its deadline.
func (c IncidentCustomer) Overdue(now time.Time) bool {
	return c.NoticeSentAt == nil && now.After(c.NoticeDueAt)
}

// IncidentEvent is one line of an incident's timeline.
type IncidentEvent struct {
	IncidentID string  `gorm:"primaryKey"`
	ID         string  `gorm:"primaryKey"`
	CustomerID *string // a line about one affected customer: only it sees the line
	At         time.Time
	Kind       string
	Text       string
	ActorLabel string
}

// Incident statuses. An incident is open until contained, then closed;
// a closed incident stays closed (a new finding is a new incident).
const (
	IncidentOpen      = "open"
	IncidentContained = "contained"
	IncidentClosed    = "closed"
)

// IncidentStatuses in the order an incident goes through them.
var IncidentStatuses = []string{IncidentOpen, IncidentContained, IncidentClosed}

// IncidentDataCategories are the kinds of personal data the console holds
// that a breach may touch.
var IncidentDataCategories = []string{"identifiers", "contact_names", "consent_records", "communication_records",
	"privacy_requests", "mail", "account_users", "credentials"}

// IncidentTransitionAllowed says whether an incident may go from one
// status to another.
func IncidentTransitionAllowed(from, to string) bool {
	switch from {
	case IncidentOpen:
		return to == IncidentContained || to == IncidentClosed
	case IncidentContained:
		return to == IncidentOpen || to == IncidentClosed
	}
	return false
}

// DefaultIncidentNoticeHours is the contract's default time to tell an
// affected controller (GDPR Art. 33(2): without undue delay).
const DefaultIncidentNoticeHours = 24

// IncidentNoticeHours is how many hours after discovery an affected
// customer must be told, as staff admins set it.
func (db *RegisterStore) IncidentNoticeHours(ctx context.Context) (int, error) {
	return intSetting(db.Gorm.WithContext(ctx), "incident_notice_hours", DefaultIncidentNoticeHours)
}

// SetIncidentNoticeHours changes the notice deadline for incidents
// registered from now on (1 to 720 hours), audited with before and after.
func (db *RegisterStore) SetIncidentNoticeHours(ctx context.Context, actor store.Actor, hours int) error {
	if !actor.Staff() {
		return store.ErrNotFound
	}
	if hours < 1 || hours > 720 {
		return errs.Invalid("hours", "must be between 1 and 720")
	}
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		before, err := intSetting(tx.G, "incident_notice_hours", DefaultIncidentNoticeHours)
		if err != nil {
			return err
		}
		if err := setSetting(tx.G, "incident_notice_hours", strconv.Itoa(hours)); err != nil {
			return err
		}
		tx.Audit(store.Audit{Action: "incident.notice_hours_change", ObjectType: "setting", ObjectID: "incident_notice_hours",
			Details: map[string]any{"before": before, "after": hours}})
		return nil
	})
}

func intSetting(g *gorm.DB, key string, def int) (int, error) {
	var s store.Setting
	if err := g.Where("key = ?", key).Limit(1).Find(&s).Error; err != nil {
		return 0, fmt.Errorf("read setting %s: %w", key, err)
	}
	if s.Value == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s.Value)
	if err != nil {
		return 0, fmt.Errorf("setting %s is not a number: %q", key, s.Value)
	}
	return n, nil
}

func setSetting(g *gorm.DB, key, value string) error {
	err := g.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "key"}}, DoUpdates: clause.AssignmentColumns([]string{"value"})}).
		Create(&store.Setting{Key: key, Value: value}).Error
	if err != nil {
		return fmt.Errorf("write setting %s: %w", key, err)
	}
	return nil
}

// AffectedInput is one customer an incident affects and how many of its
// people.
type AffectedInput struct {
	CustomerID string
	Count      int
}

// IncidentInput is a new incident.
type IncidentInput struct {
	Title        string
	Description  string
	Categories   []string
	DiscoveredAt time.Time
	Affected     []AffectedInput
}

func (in *IncidentInput) normalize() error {
	in.Title, in.Description = strings.TrimSpace(in.Title), strings.TrimSpace(in.Description)
	switch {
	case in.Title == "":
		return errs.Invalid("title", "is required")
	case len(in.Title) > 200:
		return errs.Invalid("title", "is longer than 200 characters")
	case in.Description == "":
		return errs.Invalid("description", "is required: what happened, what data, what was done")
	case len(in.Description) > 20000:
		return errs.Invalid("description", "is longer than 20000 characters")
	}
	if len(in.Categories) == 0 {
		return errs.Invalid("categories", "choose at least one category of data")
	}
	for _, c := range in.Categories {
		if !slices.Contains(IncidentDataCategories, c) {
			return errs.Invalid("categories", "%q is not one of %s", c, strings.Join(IncidentDataCategories, ", "))
		}
	}
	slices.Sort(in.Categories)
	in.Categories = slices.Compact(in.Categories)
	if in.DiscoveredAt.IsZero() {
		return errs.Invalid("discovered_at", "is required")
	}
	in.DiscoveredAt = in.DiscoveredAt.UTC().Truncate(time.Microsecond)
	if in.DiscoveredAt.After(store.Now().Add(consent.FutureSkew)) {
		return errs.Invalid("discovered_at", "is in the future")
	}
	seen := map[string]bool{}
	for i, a := range in.Affected {
		if a.Count < 0 {
			return errs.Invalid("affected["+strconv.Itoa(i)+"]", "the number of people cannot be negative")
		}
		if seen[a.CustomerID] {
			return errs.Invalid("affected["+strconv.Itoa(i)+"]", "lists a customer twice")
		}
		seen[a.CustomerID] = true
	}
	return nil
}

// CreateIncident registers an incident Sendara found. Only staff register
// incidents; each affected customer's notice falls due the configured hours
// after discovery.
func (db *RegisterStore) CreateIncident(ctx context.Context, actor store.Actor, in IncidentInput) (*Incident, error) {
	if !actor.Staff() {
		return nil, store.ErrNotFound
	}
	if err := in.normalize(); err != nil {
		return nil, err
	}
	var inc *Incident
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		var err error
		inc, err = insertIncident(tx, in, nil)
		if err != nil {
			return err
		}
		for i, a := range in.Affected {
			if err := affectCustomer(tx, inc, a, "affected["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
		return nil
	})
	return inc, err
}

func insertIncident(tx *store.Tx, in IncidentInput, reportedBy *string) (*Incident, error) {
	now := store.Now()
	year := now.Year()
	var n int64
	if err := tx.G.Model(&Incident{}).Where("reference LIKE ?", fmt.Sprintf("INC-%d-%%", year)).Count(&n).Error; err != nil {
		return nil, fmt.Errorf("number the incident: %w", err)
	}
	inc := &Incident{ID: uuid.Must(uuid.NewV7()).String(), Reference: fmt.Sprintf("INC-%d-%04d", year, n+1), Title: in.Title,
		Description: in.Description, DataCategories: strings.Join(in.Categories, ","), Status: IncidentOpen,
		DiscoveredAt: in.DiscoveredAt, ReportedByCustomerID: reportedBy, CreatedBy: tx.Actor.Label, CreatedAt: now, UpdatedAt: now}
	if err := tx.G.Create(inc).Error; err != nil {
		return nil, fmt.Errorf("register incident: %w", err)
	}
	text := "Registered; discovered " + inc.DiscoveredAt.UTC().Format(incidentTimeLayout) + "."
	if reportedBy != nil {
		text = "Reported by the customer; discovered " + inc.DiscoveredAt.UTC().Format(incidentTimeLayout) + "."
	}
	if err := incidentEvent(tx, inc.ID, "", "created", text); err != nil {
		return nil, err
	}
	tx.Audit(store.Audit{Action: "incident.create", ObjectType: "incident", ObjectID: inc.ID, CustomerID: store.StrOrEmpty(reportedBy),
		Details: map[string]any{"reference": inc.Reference, "categories": in.Categories, "reported_by_customer": reportedBy != nil}})
	return inc, nil
}

// incidentEvent adds a timeline line; about names the one customer the
// line concerns ("" for a line every affected customer may read). Lines of
// kind "internal" are for staff only.
func incidentEvent(tx *store.Tx, incidentID, about, kind, text string) error {
	ev := IncidentEvent{IncidentID: incidentID, ID: uuid.Must(uuid.NewV7()).String(), CustomerID: store.NullIfEmpty(about), At: store.Now(),
		Kind: kind, Text: text, ActorLabel: tx.Actor.Label}
	if err := tx.G.Create(&ev).Error; err != nil {
		return fmt.Errorf("add to the incident's timeline: %w", err)
	}
	return nil
}

// affectCustomer adds a customer to an incident (or changes its count).
func affectCustomer(tx *store.Tx, inc *Incident, a AffectedInput, field string) error {
	if a.Count < 0 {
		return errs.Invalid(field, "the number of people cannot be negative")
	}
	var cust customers.Customer
	if !store.ValidID(a.CustomerID) {
		return errs.Invalid(field, "choose a customer")
	}
	if err := tx.G.Select("id", "name").First(&cust, "id = ?", a.CustomerID).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return errs.Invalid(field, "no such customer")
		}
		return fmt.Errorf("find customer: %w", err)
	}
	hours, err := intSetting(tx.G, "incident_notice_hours", DefaultIncidentNoticeHours)
	if err != nil {
		return err
	}
	var existing IncidentCustomer
	err = tx.G.Where("customer_id = ? AND incident_id = ?", cust.ID, inc.ID).Limit(1).Find(&existing).Error
	if err != nil {
		return fmt.Errorf("read affected customer: %w", err)
	}
	if existing.IncidentID != "" {
		if err := tx.G.Model(&IncidentCustomer{}).Where("customer_id = ? AND incident_id = ?", cust.ID, inc.ID).
			Update("affected_count", a.Count).Error; err != nil {
			return fmt.Errorf("update affected count: %w", err)
		}
		tx.Audit(store.Audit{Action: "incident.customer_count", ObjectType: "incident", ObjectID: inc.ID, CustomerID: cust.ID,
			Details: map[string]any{"before": existing.AffectedCount, "after": a.Count}})
		return incidentEvent(tx, inc.ID, cust.ID, "customer", fmt.Sprintf("%s: %d people affected (was %d).", cust.Name, a.Count, existing.AffectedCount))
	}
	ic := IncidentCustomer{CustomerID: cust.ID, IncidentID: inc.ID, AffectedCount: a.Count,
		NoticeDueAt: inc.DiscoveredAt.Add(time.Duration(hours) * time.Hour), AddedAt: store.Now()}
	if err := tx.G.Create(&ic).Error; err != nil {
		return fmt.Errorf("add affected customer: %w", err)
	}
	tx.Audit(store.Audit{Action: "incident.customer_add", ObjectType: "incident", ObjectID: inc.ID, CustomerID: cust.ID,
		Details: map[string]any{"count": a.Count, "notice_due_at": ic.NoticeDueAt}})
	return incidentEvent(tx, inc.ID, cust.ID, "customer", fmt.Sprintf("%s affected: %d people; to be told by %s.", cust.Name, a.Count, ic.NoticeDueAt.UTC().Format(incidentTimeLayout)))
}

// AffectCustomer adds a customer to an incident, or changes how many of
// its people are affected. Staff only.
func (db *RegisterStore) AffectCustomer(ctx context.Context, actor store.Actor, incidentID string, a AffectedInput) error {
	if !actor.Staff() {
		return store.ErrNotFound
	}
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		inc, err := incident(tx, incidentID)
		if err != nil {
			return err
		}
		return affectCustomer(tx, inc, a, "customer_id")
	})
}

func incident(tx *store.Tx, id string) (*Incident, error) {
	if !store.ValidID(id) {
		return nil, store.ErrNotFound
	}
	var inc Incident
	if err := tx.G.First(&inc, "id = ?", id).Error; err != nil {
		return nil, store.NotFound(err)
	}
	return &inc, nil
}

// CustomerReportInput is a breach a customer reports to Sendara.
type CustomerReportInput struct {
	Title         string
	Description   string
	Categories    []string
	DiscoveredAt  time.Time
	AffectedCount int
}

// ReportIncident registers a breach a customer's user reports to Sendara
// (policy §5): an incident marked as reported by that customer, which
// affects it and needs no notice to it, since it told Sendara. Sendara's
// staff admins and privacy officers are mailed through the outbox.
func (db *RegisterStore) ReportIncident(ctx context.Context, actor store.Actor, in CustomerReportInput) (*Incident, error) {
	if actor.Staff() || actor.CustomerID == "" {
		return nil, store.ErrNotFound
	}
	ii := IncidentInput{Title: in.Title, Description: in.Description, Categories: in.Categories, DiscoveredAt: in.DiscoveredAt}
	if in.AffectedCount < 0 {
		return nil, errs.Invalid("affected_count", "cannot be negative")
	}
	if err := ii.normalize(); err != nil {
		return nil, err
	}
	var inc *Incident
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		if err := customers.RequireCustomer(tx, actor.CustomerID); err != nil {
			return err
		}
		cid := actor.CustomerID
		var err error
		if inc, err = insertIncident(tx, ii, &cid); err != nil {
			return err
		}
		now := store.Now()
		ic := IncidentCustomer{CustomerID: cid, IncidentID: inc.ID, AffectedCount: in.AffectedCount, NoticeDueAt: inc.DiscoveredAt,
			NoticeSentAt: &now, AddedAt: now}
		if err := tx.G.Create(&ic).Error; err != nil {
			return fmt.Errorf("add reporting customer: %w", err)
		}
		if err := incidentEvent(tx, inc.ID, cid, "customer", fmt.Sprintf("The reporting customer: %d people affected; no notice needed, it told Sendara.", in.AffectedCount)); err != nil {
			return err
		}
		var staff []string
		if err := tx.G.Table("users").Joins("JOIN role_assignments ra ON ra.user_id = users.id").
			Where("users.customer_id IS NULL AND ra.role IN ? AND users.disabled_at IS NULL", []accounts.Role{accounts.RoleStaffAdmin, accounts.RolePrivacyOfficer}).
			Pluck("users.email", &staff).Error; err != nil {
			return fmt.Errorf("find Sendara's privacy team: %w", err)
		}
		for _, addr := range store.Dedupe(staff) {
			if err := outbox.QueueMail(tx, outbox.OutboundMail{CustomerID: cid, Kind: outbox.MailOther, To: addr,
				Subject: "Breach reported by a customer: " + inc.Reference,
				Body:    fmt.Sprintf("A customer reported a breach through the console (%s, by %s).\n\n%s\n\n%s\n", inc.Reference, actor.Label, inc.Title, inc.Description)}); err != nil {
				return err
			}
		}
		return nil
	})
	return inc, err
}

// Incidents lists the register, newest discovery first: every incident for
// staff; for a customer's user, only those affecting its customer.
func (db *RegisterStore) Incidents(ctx context.Context, actor store.Actor) ([]Incident, error) {
	q := db.Gorm.WithContext(ctx).Model(&Incident{})
	if !actor.Staff() {
		q = q.Where("id IN (?)", db.Gorm.Model(&IncidentCustomer{}).Scopes(actor.Tenant("customer_id")).Select("incident_id"))
	}
	var out []Incident
	if err := q.Order("discovered_at DESC, id DESC").Limit(500).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	for i := range out {
		if err := db.loadIncidentCustomers(ctx, actor, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Incident is one incident with its affected customers and timeline. A
// customer's user sees only incidents affecting its customer (404
// otherwise) and, of the affected customers, only its own.
func (db *RegisterStore) Incident(ctx context.Context, actor store.Actor, id string) (*Incident, error) {
	if !store.ValidID(id) {
		return nil, store.ErrNotFound
	}
	var inc Incident
	if err := db.Gorm.WithContext(ctx).First(&inc, "id = ?", id).Error; err != nil {
		return nil, store.NotFound(err)
	}
	if err := db.loadIncidentCustomers(ctx, actor, &inc); err != nil {
		return nil, err
	}
	if !actor.Staff() && len(inc.Customers) == 0 {
		return nil, store.ErrNotFound
	}
	q := db.Gorm.WithContext(ctx).Where("incident_id = ?", id)
	if !actor.Staff() {
		q = q.Where("(customer_id IS NULL OR customer_id = ?) AND kind <> ?", actor.CustomerID, "internal")
	}
	if err := q.Order("at, id").Find(&inc.Events).Error; err != nil {
		return nil, fmt.Errorf("read the incident's timeline: %w", err)
	}
	return &inc, nil
}

func (db *RegisterStore) loadIncidentCustomers(ctx context.Context, actor store.Actor, inc *Incident) error {
	var rows []struct {
		IncidentCustomer
		Name string
	}
	err := db.Gorm.WithContext(ctx).Table("incident_customers").Scopes(actor.Tenant("incident_customers.customer_id")).
		Select("incident_customers.*, customers.name AS name").
		Joins("JOIN customers ON customers.id = incident_customers.customer_id").
		Where("incident_customers.incident_id = ?", inc.ID).Order("customers.name").Scan(&rows).Error
	if err != nil {
		return fmt.Errorf("read affected customers: %w", err)
	}
	inc.Customers = make([]IncidentCustomer, len(rows))
	for i, r := range rows {
		inc.Customers[i] = r.IncidentCustomer
		inc.Customers[i].CustomerName = r.Name
	}
	return nil
}

// SetIncidentStatus moves an incident on (see IncidentTransitionAllowed),
// with a note on the timeline. Staff only.
func (db *RegisterStore) SetIncidentStatus(ctx context.Context, actor store.Actor, id, status, note string) error {
	if !actor.Staff() {
		return store.ErrNotFound
	}
	if !slices.Contains(IncidentStatuses, status) {
		return errs.Invalid("status", "must be one of %s", strings.Join(IncidentStatuses, ", "))
	}
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		inc, err := incident(tx, id)
		if err != nil {
			return err
		}
		if !IncidentTransitionAllowed(inc.Status, status) {
			return &errs.ConflictError{Field: "status", Message: fmt.Sprintf("an incident that is %s cannot become %s", inc.Status, status)}
		}
		if err := tx.G.Model(&Incident{}).Where("id = ?", id).Updates(map[string]any{"status": status, "updated_at": store.Now()}).Error; err != nil {
			return fmt.Errorf("change incident status: %w", err)
		}
		text := "Status: " + inc.Status + " → " + status + "."
		if note = strings.TrimSpace(note); note != "" {
			text += " " + note
		}
		tx.Audit(store.Audit{Action: "incident.status", ObjectType: "incident", ObjectID: id, Details: map[string]any{"from": inc.Status, "to": status}})
		return incidentEvent(tx, id, "", "status", text)
	})
}

// AddIncidentNote puts a line on an incident's timeline. Staff only.
func (db *RegisterStore) AddIncidentNote(ctx context.Context, actor store.Actor, id, text string) error {
	if !actor.Staff() {
		return store.ErrNotFound
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return errs.Invalid("text", "is required")
	}
	if len(text) > 5000 {
		return errs.Invalid("text", "is longer than 5000 characters")
	}
	return db.Tx(ctx, actor, func(tx *store.Tx) error {
		if _, err := incident(tx, id); err != nil {
			return err
		}
		tx.Audit(store.Audit{Action: "incident.note", ObjectType: "incident", ObjectID: id})
		return incidentEvent(tx, id, "", "note", text)
	})
}

// SendIncidentNotices queues the breach notice (template incident_notice)
// to the admins and privacy contact of every affected customer not told
// yet, or of customerID only, records when, and puts it on the timeline.
// It returns how many customers were told. Staff only.
func (db *RegisterStore) SendIncidentNotices(ctx context.Context, actor store.Actor, id, customerID, baseURL string) (int, error) {
	if !actor.Staff() {
		return 0, store.ErrNotFound
	}
	told := 0
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		inc, err := incident(tx, id)
		if err != nil {
			return err
		}
		q := tx.G.Where("incident_id = ? AND notice_sent_at IS NULL", id)
		if customerID != "" {
			q = q.Where("customer_id = ?", customerID)
		}
		var pending []IncidentCustomer
		if err := q.Find(&pending).Error; err != nil {
			return fmt.Errorf("find customers to tell: %w", err)
		}
		if len(pending) == 0 {
			return &errs.ConflictError{Field: "customer_id", Message: "every affected customer was told already"}
		}
		for _, ic := range pending {
			var cust customers.Customer
			if err := tx.G.First(&cust, "id = ?", ic.CustomerID).Error; err != nil {
				return fmt.Errorf("find customer: %w", err)
			}
			to, err := customerAdminAddresses(tx.G, &cust)
			if err != nil {
				return err
			}
			if len(to) == 0 {
				return &errs.ConflictError{Field: "customer_id", Message: cust.Name + " has no admin or privacy contact to tell: add one on its page first"}
			}
			data := outbox.MailData{Reference: inc.Reference, Business: cust.Name, ReceivedOn: inc.DiscoveredAt.Format(time.DateOnly),
				Link: strings.TrimRight(baseURL, "/") + "/incidents/" + inc.ID,
				Message: fmt.Sprintf("%s\n\n%s\n\nData concerned: %s. People of yours affected, as far as we know: %d.",
					inc.Title, inc.Description, strings.ReplaceAll(inc.DataCategories, ",", ", "), ic.AffectedCount)}
			for _, addr := range to {
				if err := outbox.QueueMail(tx, outbox.OutboundMail{CustomerID: cust.ID, Kind: outbox.MailIncidentNotice, To: addr, Data: data}); err != nil {
					return err
				}
			}
			now := store.Now()
			if err := tx.G.Model(&IncidentCustomer{}).Where("customer_id = ? AND incident_id = ?", ic.CustomerID, id).
				Updates(map[string]any{"notice_sent_at": now, "notice_mails": len(to)}).Error; err != nil {
				return fmt.Errorf("record the notice: %w", err)
			}
			late := ""
			if now.After(ic.NoticeDueAt) {
				late = fmt.Sprintf(" It was due %s: late.", ic.NoticeDueAt.UTC().Format(incidentTimeLayout))
			}
			if err := incidentEvent(tx, id, cust.ID, "notice", fmt.Sprintf("Notice to %s queued to %d address(es).%s", cust.Name, len(to), late)); err != nil {
				return err
			}
			tx.Audit(store.Audit{Action: "incident.notice", ObjectType: "incident", ObjectID: id, CustomerID: cust.ID,
				Details: map[string]any{"mails": len(to), "due_at": ic.NoticeDueAt, "late": late != ""}})
			told++
		}
		return tx.G.Model(&Incident{}).Where("id = ?", id).Update("updated_at", store.Now()).Error
	})
	return told, err
}

// IncidentFromRequest opens an incident from a mailbox message suggested as
// an account compromise (policy §7): the message's text is the
// description, its arrival the discovery time, and the request's customer,
// if known, the first affected one. The request's timeline names the
// incident. Staff only.
func (db *RegisterStore) IncidentFromRequest(ctx context.Context, actor store.Actor, requestID string) (*Incident, error) {
	if !actor.Staff() {
		return nil, store.ErrNotFound
	}
	var inc *Incident
	err := db.Tx(ctx, actor, func(tx *store.Tx) error {
		if !store.ValidID(requestID) {
			return store.ErrNotFound
		}
		var r requests.PrivacyRequest
		if err := tx.G.First(&r, "id = ?", requestID).Error; err != nil {
			return store.NotFound(err)
		}
		if r.SuggestedType != SuggestedAccountCompromise {
			return &errs.ConflictError{Field: "type", Message: "only a report of a compromised account opens an incident from here"}
		}
		var opened int64
		if err := tx.G.Model(&store.RequestEvent{}).Where("request_id = ? AND kind = ?", r.ID, "incident").Count(&opened).Error; err != nil {
			return fmt.Errorf("check earlier incident: %w", err)
		}
		if opened > 0 {
			return &errs.ConflictError{Field: "type", Message: "an incident was opened from this report already"}
		}
		in := IncidentInput{Title: "Account compromise reported by mail (" + r.Reference + ")",
			Description: store.FirstNonEmptyString(strings.TrimSpace(r.Details), "Reported by "+r.RequesterEmail+"."),
			Categories:  []string{"account_users", "credentials"}, DiscoveredAt: r.ReceivedAt}
		if len(in.Description) > 20000 {
			in.Description = strings.ToValidUTF8(in.Description[:20000], "")
		}
		if err := in.normalize(); err != nil {
			return err
		}
		var err error
		if inc, err = insertIncident(tx, in, r.CustomerID); err != nil {
			return err
		}
		if r.CustomerID != nil {
			if err := affectCustomer(tx, inc, AffectedInput{CustomerID: *r.CustomerID}, "customer_id"); err != nil {
				return err
			}
		}
		tx.Event(r.ID, "incident", "Incident "+inc.Reference+" opened from this report.")
		return incidentEvent(tx, inc.ID, "", "internal", "Opened from the mailbox report "+r.Reference+" from "+r.RequesterEmail+".")
	})
	return inc, err
}

// SuggestedAccountCompromise is the suggested type the mailbox gives a
// report of a compromised account or a breach (mailbox.AccountCompromise).
const SuggestedAccountCompromise = "account_compromise"

// incidentTimeLayout writes times in timeline lines (stored once, read by
// staff and customers in different zones): UTC, to the minute.
const incidentTimeLayout = "2006-01-02 15:04 UTC"
