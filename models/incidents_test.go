package models_test

import (
	accounts "github.com/sendara/console/models/accounts"
	errs "github.com/sendara/console/models/errs"

	registers "github.com/sendara/console/models/registers"

	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

func TestIncidentStatusMovesOnlyForward(t *testing.T) {
	t.Parallel()
	tests := []struct {
		from, to string
		ok       bool
	}{
		{registers.IncidentOpen, registers.IncidentContained, true},
		{registers.IncidentOpen, registers.IncidentClosed, true},
		{registers.IncidentContained, registers.IncidentClosed, true},
		{registers.IncidentContained, registers.IncidentOpen, true},
		{registers.IncidentClosed, registers.IncidentOpen, false},
		{registers.IncidentClosed, registers.IncidentContained, false},
		{registers.IncidentOpen, registers.IncidentOpen, false},
	}
	for _, tt := range tests {
		if got := registers.IncidentTransitionAllowed(tt.from, tt.to); got != tt.ok {
			t.Errorf("%s → %s allowed %v, want %v", tt.from, tt.to, got, tt.ok)
		}
	}
}

func TestCreateIncidentRefusesBadInputNamingTheField(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	good := func() registers.IncidentInput {
		return registers.IncidentInput{Title: "Laptop stolen", Description: "An unencrypted export was on it.", Categories: []string{"identifiers"},
			DiscoveredAt: time.Now().Add(-time.Hour), Affected: []registers.AffectedInput{{CustomerID: acme.ID, Count: 10}}}
	}
	tests := []struct {
		name  string
		edit  func(*registers.IncidentInput)
		field string
	}{
		{"no title", func(in *registers.IncidentInput) { in.Title = " " }, "title"},
		{"no description", func(in *registers.IncidentInput) { in.Description = "" }, "description"},
		{"no category", func(in *registers.IncidentInput) { in.Categories = nil }, "categories"},
		{"an unknown category", func(in *registers.IncidentInput) { in.Categories = []string{"dreams"} }, "categories"},
		{"no discovery time", func(in *registers.IncidentInput) { in.DiscoveredAt = time.Time{} }, "discovered_at"},
		{"discovered tomorrow", func(in *registers.IncidentInput) { in.DiscoveredAt = time.Now().Add(48 * time.Hour) }, "discovered_at"},
		{"a negative count", func(in *registers.IncidentInput) { in.Affected[0].Count = -1 }, "affected[0]"},
		{"an unknown customer", func(in *registers.IncidentInput) {
			in.Affected[0].CustomerID = "00000000-0000-0000-0000-000000000000"
		}, "affected[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := good()
			tt.edit(&in)
			_, err := db.CreateIncident(context.Background(), modeltest.Staff, in)
			if v, ok := errs.AsValidation(err); !ok || v.Field != tt.field {
				t.Errorf("error %v, want one on %s", err, tt.field)
			}
		})
	}
	list, err := db.Incidents(context.Background(), modeltest.Staff)
	if err != nil || len(list) != 0 {
		t.Errorf("refused incidents left %d rows (%v)", len(list), err)
	}
}

func TestAnIncidentsNoticeFallsDueTheConfiguredHoursAfterDiscoveryAndIsMailedOnce(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme, other := newCustomer(t, db, "acme"), newCustomer(t, db, "other")
	newUser(t, db, "admin@acme.test", accounts.RoleCustomerAdmin, acme.ID, "")
	newUser(t, db, "admin@other.test", accounts.RoleCustomerAdmin, other.ID, "")
	if err := db.SetIncidentNoticeHours(ctx, modeltest.Staff, 12); err != nil {
		t.Fatal(err)
	}
	found := time.Now().Add(-13 * time.Hour).UTC().Truncate(time.Second)
	inc, err := db.CreateIncident(ctx, modeltest.Staff, registers.IncidentInput{Title: "Misdirected export", Description: "A CSV went to the wrong customer.",
		Categories: []string{"identifiers", "consent_records"}, DiscoveredAt: found,
		Affected: []registers.AffectedInput{{CustomerID: acme.ID, Count: 120}, {CustomerID: other.ID, Count: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(inc.Reference, "INC-") {
		t.Errorf("reference %q", inc.Reference)
	}
	got, err := db.Incident(ctx, modeltest.Staff, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range got.Customers {
		if want := found.Add(12 * time.Hour); !c.NoticeDueAt.Equal(want) {
			t.Errorf("%s: notice due %s, want %s", c.CustomerName, c.NoticeDueAt, want)
		}
		if !c.Overdue(time.Now()) {
			t.Errorf("%s: not overdue 13 hours after discovery with a 12-hour deadline", c.CustomerName)
		}
	}
	told, err := db.SendIncidentNotices(ctx, modeltest.Staff, inc.ID, acme.ID, "https://console.example")
	if err != nil || told != 1 {
		t.Fatalf("notices: %d %v", told, err)
	}
	subjects := mailTo(t, db, "admin@acme.test")
	if len(subjects) != 1 || !strings.Contains(subjects[0], inc.Reference) {
		t.Errorf("acme's admin got %q", subjects)
	}
	if n := len(mailTo(t, db, "admin@other.test")); n != 0 {
		t.Errorf("other's admin got %d mails before its notice was sent", n)
	}
	if _, err := db.SendIncidentNotices(ctx, modeltest.Staff, inc.ID, acme.ID, ""); err == nil {
		t.Error("a second notice to acme was accepted")
	}
	got, _ = db.Incident(ctx, modeltest.Staff, inc.ID)
	for _, c := range got.Customers {
		if (c.CustomerID == acme.ID) != (c.NoticeSentAt != nil) {
			t.Errorf("%s: notice sent at %v", c.CustomerName, c.NoticeSentAt)
		}
	}
	if len(auditEvents(t, db, "incident.notice")) != 1 {
		t.Error("the notice was not audited")
	}
}

func TestACustomerSeesOnlyIncidentsAffectingItAndOnlyItsOwnLine(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme, other, third := newCustomer(t, db, "acme"), newCustomer(t, db, "other"), newCustomer(t, db, "third")
	newUser(t, db, "privacy@sendara.test", accounts.RolePrivacyOfficer, "", "")
	both, err := db.CreateIncident(ctx, modeltest.Staff, registers.IncidentInput{Title: "Both", Description: "d", Categories: []string{"mail"},
		DiscoveredAt: time.Now().Add(-time.Hour), Affected: []registers.AffectedInput{{CustomerID: acme.ID, Count: 1}, {CustomerID: other.ID, Count: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	onlyOther, err := db.CreateIncident(ctx, modeltest.Staff, registers.IncidentInput{Title: "Other only", Description: "d", Categories: []string{"mail"},
		DiscoveredAt: time.Now().Add(-time.Hour), Affected: []registers.AffectedInput{{CustomerID: other.ID, Count: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	acmeUser := store.CustomerUser("u1", "a@acme.test", acme.ID, "")
	list, err := db.Incidents(ctx, acmeUser)
	if err != nil || len(list) != 1 || list[0].ID != both.ID {
		t.Fatalf("acme's list: %v %v", list, err)
	}
	inc, err := db.Incident(ctx, acmeUser, both.ID)
	if err != nil || len(inc.Customers) != 1 || inc.Customers[0].CustomerID != acme.ID {
		t.Fatalf("acme sees customers %v (%v), want only its own line", inc, err)
	}
	for _, e := range inc.Events {
		if strings.Contains(e.Text, other.Name) {
			t.Errorf("acme's timeline names the other customer: %q", e.Text)
		}
	}
	if staffView, _ := db.Incident(ctx, modeltest.Staff, both.ID); len(staffView.Events) <= len(inc.Events) {
		t.Errorf("staff see %d timeline lines, acme %d: acme should see fewer", len(staffView.Events), len(inc.Events))
	}
	if _, err := db.Incident(ctx, acmeUser, onlyOther.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another customer's incident: %v, want ErrNotFound", err)
	}
	if _, err := db.SendIncidentNotices(ctx, acmeUser, both.ID, "", ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a customer sending notices: %v, want ErrNotFound", err)
	}
	// A breach the customer reports is its own, marked, and needs no notice to it.
	rep, err := db.ReportIncident(ctx, store.CustomerUser("u3", "a@third.test", third.ID, ""), registers.CustomerReportInput{
		Title: "Our CRM admin's laptop", Description: "Stolen with a session open.", Categories: []string{"credentials"},
		DiscoveredAt: time.Now().Add(-time.Hour), AffectedCount: 0})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.Incident(ctx, modeltest.Staff, rep.ID)
	if err != nil || got.ReportedByCustomerID == nil || *got.ReportedByCustomerID != third.ID || got.Customers[0].NoticeSentAt == nil {
		t.Fatalf("reported incident: %+v %v", got, err)
	}
	if s := mailTo(t, db, "privacy@sendara.test"); len(s) != 1 || !strings.Contains(s[0], rep.Reference) {
		t.Errorf("staff were mailed %q", s)
	}
	if list, _ := db.Incidents(ctx, acmeUser); len(list) != 1 {
		t.Errorf("acme sees %d incidents after third's report, want 1", len(list))
	}
}

func TestIncidentStatusChangesAreRefusedOnceClosed(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	inc, err := db.CreateIncident(ctx, modeltest.Staff, registers.IncidentInput{Title: "T", Description: "d", Categories: []string{"mail"},
		DiscoveredAt: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		to string
		ok bool
	}{{registers.IncidentContained, true}, {registers.IncidentClosed, true}, {registers.IncidentOpen, false}, {"lost", false}}
	for _, s := range steps {
		err := db.SetIncidentStatus(ctx, modeltest.Staff, inc.ID, s.to, "")
		if (err == nil) != s.ok {
			t.Errorf("to %s: %v, want ok %v", s.to, err, s.ok)
		}
	}
	got, _ := db.Incident(ctx, modeltest.Staff, inc.ID)
	if got.Status != registers.IncidentClosed || len(got.Events) != 3 {
		t.Errorf("status %s with %d timeline lines, want closed with 3", got.Status, len(got.Events))
	}
}
