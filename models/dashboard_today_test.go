package models_test

import (
	calendar "github.com/sendara/console/models/calendar"
	casework "github.com/sendara/console/models/casework"

	consent "github.com/sendara/console/models/consent"

	customers "github.com/sendara/console/models/customers"

	requests "github.com/sendara/console/models/requests"

	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// dashboardToday is a Monday; two business days on is Wednesday.
var dashboardToday = calendar.Date{Year: 2026, Month: time.December, Day: 7}

func TestTodayFiguresCountWhatNeedsStaffToday(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := newCustomer(t, db, "acme")
	bolt := newCustomer(t, db, "bolt")
	rs := makeHistory(t, db, []history{
		{name: "late", typ: "access", regime: "gdpr", received: "2026-11-01T18:00:00Z"},
		{name: "soon", typ: "access", regime: "gdpr", received: "2026-11-01T18:00:00Z"},
		{name: "later", typ: "access", regime: "gdpr", received: "2026-11-01T18:00:00Z"},
		{name: "waiting", typ: "access", regime: "gdpr", received: "2026-11-01T18:00:00Z"},
		{name: "untriaged", regime: "gdpr", received: "2026-11-01T18:00:00Z"},
		{name: "ack", typ: "know", regime: "ccpa", received: "2026-11-01T18:00:00Z"},
		{name: "routed", typ: "erasure", regime: "gdpr", received: "2026-11-01T18:00:00Z"},
		{name: "routed-bolt", typ: "erasure", regime: "gdpr", received: "2026-11-01T18:00:00Z"},
		// Answered in November 2026: one in time, one late; one answered
		// in 2025 falls outside the 12 months.
		{name: "nov-in-time", typ: "access", regime: "gdpr", received: "2026-11-02T18:00:00Z", close: "completed", closedAt: "2026-11-10T18:00:00Z"},
		{name: "nov-late", typ: "access", regime: "gdpr", received: "2026-10-01T18:00:00Z", close: "completed", closedAt: "2026-11-20T18:00:00Z"},
		{name: "old", typ: "access", regime: "gdpr", received: "2025-10-01T18:00:00Z", close: "completed", closedAt: "2025-10-20T18:00:00Z"},
	})
	exec(t, db, "UPDATE privacy_requests SET ack_due_on = NULL")
	due := map[string]string{"late": "2026-12-01", "soon": "2026-12-09", "later": "2026-12-10", "waiting": "2026-12-01",
		"untriaged": "2026-12-30", "ack": "2026-12-30", "routed": "2026-12-30", "routed-bolt": "2026-12-30", "nov-late": "2026-11-01"}
	for name, d := range due {
		exec(t, db, "UPDATE privacy_requests SET due_on = ? WHERE id = ?", d, rs[name].ID)
	}
	exec(t, db, "UPDATE privacy_requests SET status = ? WHERE id = ?", requests.StatusWaiting, rs["waiting"].ID)
	exec(t, db, "UPDATE privacy_requests SET ack_due_on = ? WHERE id = ?", "2026-12-04", rs["ack"].ID)
	for _, r := range []struct {
		name string
		cust *customers.Customer
		due  string
	}{{"routed", acme, "2026-12-03"}, {"routed-bolt", bolt, "2026-12-05"}, {"routed", bolt, "2026-12-01"}, {"routed-bolt", acme, "2026-12-08"}} {
		exec(t, db, "UPDATE privacy_requests SET status = ? WHERE id = ?", requests.StatusWithController, rs[r.name].ID)
		exec(t, db, "INSERT INTO routed_tasks (customer_id, id, request_id, status, due_on, routed_at) VALUES (?, ?, ?, ?, ?, ?)",
			r.cust.ID, uuid.NewString(), rs[r.name].ID, requests.TaskPending, r.due, time.Now().UTC())
	}

	got, err := db.TodayFigures(ctx, modeltest.Staff, calendar.DefaultBusiness(), dashboardToday)
	if err != nil {
		t.Fatal(err)
	}
	if got.SoonBy.String() != "2026-12-09" {
		t.Errorf("due soon reaches %s, want 2026-12-09 (two business days after Monday)", got.SoonBy)
	}
	for _, c := range []struct {
		name      string
		got, want int64
	}{
		{"overdue (not the one waiting on its requester)", got.Overdue, 1},
		{"due within two business days", got.DueSoon, 1},
		{"waiting on the requester", got.Waiting, 1},
		{"with controllers", got.WithControllers, 2},
		{"acknowledgements due", got.AckDue, 1},
		{"mail waiting for triage", got.Untriaged, 1},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.name, c.got, c.want)
		}
	}
	// bolt is late on two requests, acme on one (its other task is due
	// tomorrow).
	if len(got.ControllersOverdue) != 2 || got.ControllersOverdue[0].CustomerID != bolt.ID || got.ControllersOverdue[0].N != 2 ||
		got.ControllersOverdue[1].CustomerID != acme.ID || got.ControllersOverdue[1].N != 1 || got.ControllersOverdue[1].Name != acme.Name {
		t.Errorf("controllers late: %+v", got.ControllersOverdue)
	}
	// Each figure is the length of the list it links to.
	base := casework.RequestFilter{Today: dashboardToday}
	for _, l := range []struct {
		view, status, before string
		want                 string
	}{
		{"overdue", "", "", "late"}, {casework.ViewDueSoon, "", got.SoonBy.String(), "soon"}, {"open", requests.StatusWaiting, "", "waiting"},
		{casework.ViewAckDue, "", "", "ack"}, {casework.ViewUntriaged, "", "", "untriaged"},
	} {
		f := base
		f.View, f.Status, f.DueBefore = l.view, l.status, l.before
		list, err := db.ListRequests(ctx, modeltest.Staff, f)
		if err != nil || len(list) != 1 || list[0].ID != rs[l.want].ID {
			t.Errorf("list %s %s %s: %d requests (%v), want %s", l.view, l.status, l.before, len(list), err, l.want)
		}
	}
	f := base
	f.View, f.CustomerID = casework.ViewControllersOverdue, acme.ID
	if list, err := db.ListRequests(ctx, modeltest.Staff, f); err != nil || len(list) != 1 || list[0].ID != rs["routed"].ID {
		t.Errorf("requests acme is late on: %v (%v)", list, err)
	}

	if len(got.OnTime) != 12 || got.OnTime[0].Month.String() != "2026-01-01" || got.OnTime[11].Month.String() != "2026-12-01" {
		t.Fatalf("on-time months: %+v", got.OnTime)
	}
	nov := got.OnTime[10]
	if nov.Answered != 2 || nov.InTime != 1 {
		t.Errorf("November: %d answered, %d in time; want 2 and 1", nov.Answered, nov.InTime)
	}
	if r, ok := nov.Rate(); !ok || r != 50 {
		t.Errorf("November rate %v (%v), want 50", r, ok)
	}
	for i, m := range got.OnTime {
		if i != 10 && m.Answered != 0 {
			t.Errorf("%s: %d answered, want none", m.Month, m.Answered)
		}
	}
	if _, ok := got.OnTime[0].Rate(); ok {
		t.Error("a month with no answer has a rate")
	}

	// A customer sees only what concerns it.
	acmeUser := store.CustomerUser(uuid.NewString(), "admin@acme.test", acme.ID, "")
	mine, err := db.TodayFigures(ctx, acmeUser, calendar.DefaultBusiness(), dashboardToday)
	if err != nil {
		t.Fatal(err)
	}
	if mine.WithControllers != 2 || mine.Overdue != 0 || len(mine.ControllersOverdue) != 1 || mine.ControllersOverdue[0].N != 1 {
		t.Errorf("acme sees %d with controllers, %d overdue, late %+v", mine.WithControllers, mine.Overdue, mine.ControllersOverdue)
	}
	if mine.InboxPending != 2 || mine.InboxNextDue != "2026-12-03" {
		t.Errorf("acme's requests to answer: %d, next due %q; want 2, 2026-12-03", mine.InboxPending, mine.InboxNextDue)
	}
}

func TestTodayFiguresCountOptOutsPerWeekBySourceAndTheAuditMonth(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := newCustomer(t, db, "acme")
	bolt := newCustomer(t, db, "bolt")
	optOut := func(c *customers.Customer, to, source string, at time.Time) {
		t.Helper()
		if _, err := db.RecordConsent(ctx, modeltest.Staff, c.ID, consent.ConsentInput{To: to, Kind: consent.OptOut, Source: source,
			OccurredAt: at}, "US"); err != nil {
			t.Fatal(err)
		}
	}
	// Opt-outs are not recorded in the future: the weeks are counted back
	// from today.
	loc := calendar.DefaultBusiness().Loc
	today := calendar.TodayIn(loc)
	noon := func(d calendar.Date) time.Time { return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, loc) }
	monday := today.AddDays(-((int(today.Weekday()) + 6) % 7))
	first := monday.AddDays(-77)
	optOut(acme, "+14155550101", "api", time.Now().Add(-time.Minute)) // this week
	optOut(acme, "+14155550102", "api", noon(today.AddDays(-7)))      // last week
	optOut(acme, "+14155550103", "manual", noon(today.AddDays(-7)))
	optOut(acme, "+14155550104", "csv_import", noon(first))           // the first of the twelve weeks
	optOut(acme, "+14155550105", "api", noon(first.AddDays(-1)))      // before it
	optOut(bolt, "+14155550106", "api", time.Now().Add(-time.Minute)) // another tenant

	acmeUser := store.CustomerUser(uuid.NewString(), "admin@acme.test", acme.ID, "")
	got, err := db.TodayFigures(ctx, acmeUser, calendar.DefaultBusiness(), today)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.OptOutWeeks) != casework.OptOutWeeks || got.OptOutWeeks[0] != first || got.OptOutWeeks[11] != monday {
		t.Fatalf("weeks: %v, want %s to %s", got.OptOutWeeks, first, monday)
	}
	want := map[string][12]int{
		"api":        {10: 1, 11: 1},
		"manual":     {10: 1},
		"csv_import": {0: 1},
	}
	if len(got.OptOutsBySource) != len(want) {
		t.Errorf("sources: %v", got.OptOutsBySource)
	}
	for src, w := range want {
		if g := got.OptOutsBySource[src]; len(g) != 12 || [12]int(g) != w {
			t.Errorf("%s: %v, want %v", src, g, w)
		}
	}
	if s := got.OptOutSources(); len(s) != 3 || s[0] != "manual" || s[1] != "csv_import" || s[2] != "api" {
		t.Errorf("sources in order: %v", s)
	}

	// The audit month: a failed sign-in, a role change and an export
	// now; today is in this month, so each counts once.
	if err := db.Record(ctx, modeltest.Staff, store.Audit{Action: "user.login_failed", ObjectType: "user"},
		store.Audit{Action: "role.change", ObjectType: "user"}, store.Audit{Action: "contact.export", ObjectType: "contact"},
		store.Audit{Action: "contact.view", ObjectType: "contact"}); err != nil {
		t.Fatal(err)
	}
	staff, err := db.TodayFigures(ctx, modeltest.Staff, calendar.DefaultBusiness(), today)
	if err != nil {
		t.Fatal(err)
	}
	if staff.FailedSignIns != 1 || staff.RoleChanges != 1 || staff.ExportsThisMonth != 1 {
		t.Errorf("this month: %d failed sign-ins, %d role changes, %d exports; want 1 each", staff.FailedSignIns, staff.RoleChanges, staff.ExportsThisMonth)
	}
	seq, hash, err := db.AuditHead(ctx)
	if err != nil || staff.ChainSeq != seq || staff.ChainHash != hash || hash == "" {
		t.Errorf("chain head %d %q, want %d %q (%v)", staff.ChainSeq, staff.ChainHash, seq, hash, err)
	}
	if staff.Checkpoint != nil {
		t.Errorf("checkpoint %+v, none was signed", staff.Checkpoint)
	}
}
