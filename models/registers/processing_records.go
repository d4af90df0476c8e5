package registers

import (
	calendar "github.com/sendara/console/models/calendar"
	customers "github.com/sendara/console/models/customers"

	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	store "github.com/sendara/console/models/store"
)

// ProcessingRecord is Sendara's record of processing for one controller
// (GDPR Art. 30(2)), generated from what the console holds: the controller,
// the categories of processing with their volumes and retention, the
// sub-processors, the transfers to the US with their safeguards, and the
// security measures the console applies.
type ProcessingRecord struct {
	GeneratedAt   time.Time
	Customer      customers.Customer
	Categories    []ProcessingCategory
	Subprocessors []Subprocessor
	Transfers     []Subprocessor // sub-processors located in the United States
	Security      []string
}

// ProcessingCategory is one category of processing carried out for the
// controller.
type ProcessingCategory struct {
	Name      string
	Purpose   string
	Subjects  string
	Rows      int64
	Retention string
}

// SecurityMeasures are the technical and organisational measures of Art.
// 32(1) the console itself applies (the README's security model).
var SecurityMeasures = []string{
	"Passwords hashed with argon2id; NIST SP 800-63B password policy; breached passwords refused",
	"Two-step sign-in (TOTP) required of all Sendara staff; available to, and enforceable for, customer users",
	"Sessions in the database, rotated at sign-in, ended on idle and absolute limits; sign-in throttling per account and address",
	"Role-based access control, deny by default; tenant scoping in the data layer (another customer's data answers as absent)",
	"TOTP secrets and the server secret sealed with AES-256-GCM under a key kept outside the database",
	"Tamper-evident audit log: a hash chain over every read and change of personal data, with signed checkpoints",
	"CSRF tokens on every form, a strict Content Security Policy, HSTS on https",
	"Retention rules applied by an hourly sweeper; erasure in one transaction; opt-outs kept only as keyed hashes after closure",
}

// usTransfer reports whether a sub-processor's location is in the US.
func usTransfer(location string) bool {
	l := " " + strings.ToLower(location) + " "
	for _, w := range []string{"united states", " usa ", " us ", " u.s.", "us-", "(us)"} {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

// ProcessingRecordFor builds the record for customerID as of today. A
// customer's user gets only its own customer's (ErrNotFound otherwise).
func (db *RegisterStore) ProcessingRecordFor(ctx context.Context, actor store.Actor, customerID string, today calendar.Date) (*ProcessingRecord, error) {
	cust, err := db.Customer(ctx, actor, customerID)
	if err != nil {
		return nil, err
	}
	rec := &ProcessingRecord{GeneratedAt: store.Now(), Customer: *cust, Security: SecurityMeasures}
	g := db.Gorm.WithContext(ctx)
	days := map[string]int{}
	var rules []RetentionRule
	if err := g.Find(&rules).Error; err != nil {
		return nil, fmt.Errorf("read retention rules: %w", err)
	}
	for _, r := range rules {
		days[r.Category] = r.Days
	}
	kept := func(cat string) string {
		if d, ok := days[cat]; ok {
			return strconv.Itoa(d) + " days"
		}
		return "while the customer's account is active"
	}
	for _, c := range []struct {
		table, name, purpose, subjects, retention string
	}{
		{"contacts", "Contact identifiers and names", "identify the people the customer messages; answer suppression checks", "the customer's contacts", "while the customer's account is active; erased on request"},
		{"consent_events", "Consent and opt-out records", "prove and apply opt-ins and opt-outs (TCPA, CTIA)", "the customer's contacts", "while the customer's account is active; opt-outs kept as keyed hashes after closure"},
		{"communications", "Communication records (metadata)", "record when messages and calls were sent or received and their delivery", "the customer's contacts", kept(RetainCommunications)},
		{"inbound_replies", "Inbound replies", "classify replies (STOP, HELP) and queue ambiguous ones for review", "the customer's contacts", "while the customer's account is active"},
	} {
		var n int64
		if err := g.Table(c.table).Where("customer_id = ?", cust.ID).Count(&n).Error; err != nil {
			return nil, fmt.Errorf("count %s: %w", c.table, err)
		}
		rec.Categories = append(rec.Categories, ProcessingCategory{Name: c.name, Purpose: c.purpose, Subjects: c.subjects, Rows: n, Retention: c.retention})
	}
	var routed int64
	if err := g.Table("routed_tasks").Where("customer_id = ?", cust.ID).Count(&routed).Error; err != nil {
		return nil, fmt.Errorf("count routed requests: %w", err)
	}
	rec.Categories = append(rec.Categories, ProcessingCategory{Name: "Privacy requests about the customer's contacts",
		Purpose: "match requests to the customer, forward them and act on its instructions (Art. 28(3)(e))", Subjects: "requesters and the customer's contacts",
		Rows: routed, Retention: kept(RetainClosedRequests) + " after closing"})
	sps, err := db.Subprocessors(ctx)
	if err != nil {
		return nil, err
	}
	for _, sp := range sps {
		if sp.Current(today) {
			rec.Subprocessors = append(rec.Subprocessors, sp)
			if usTransfer(sp.Location) {
				rec.Transfers = append(rec.Transfers, sp)
			}
		}
	}
	return rec, nil
}

// ProcessingRecordColumns is the CSV header of the record.
var ProcessingRecordColumns = []string{"section", "item", "detail", "count", "retention"}

// Rows is the record as CSV rows.
func (r *ProcessingRecord) Rows() [][]string {
	out := [][]string{
		{"controller", r.Customer.Name, r.Customer.ContactEmail, "", ""},
		{"processor", "Sendara", "generated " + r.GeneratedAt.Format(time.RFC3339), "", ""},
	}
	for _, c := range r.Categories {
		out = append(out, []string{"category", c.Name, c.Purpose + " (" + c.Subjects + ")", strconv.FormatInt(c.Rows, 10), c.Retention})
	}
	for _, s := range r.Subprocessors {
		out = append(out, []string{"sub-processor", s.Name, s.Purpose + "; " + s.Location + "; since " + s.EffectiveOn.String(), "", ""})
	}
	for _, s := range r.Transfers {
		out = append(out, []string{"transfer", s.Name + " (" + s.Location + ")", s.TransferSafeguard, "", ""})
	}
	for _, m := range r.Security {
		out = append(out, []string{"security", m, "", "", ""})
	}
	return out
}
