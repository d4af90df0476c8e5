package models_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	casework "github.com/sendara/console/models/casework"

	consent "github.com/sendara/console/models/consent"

	customers "github.com/sendara/console/models/customers"

	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

func TestEvidenceBusinessDaysBetween(t *testing.T) {
	t.Parallel()
	cal := calendar.DefaultCalendar()
	tests := []struct {
		from, to string
		want     int
	}{
		{"2025-03-03", "2025-03-03", 0},  // same day
		{"2025-03-03", "2025-03-02", 0},  // backwards
		{"2025-03-07", "2025-03-10", 1},  // Friday to Monday
		{"2025-03-03", "2025-03-17", 10}, // two weeks
		{"2025-03-03", "2025-03-18", 11},
		{"2025-07-03", "2025-07-07", 1}, // 4 July is a holiday, then a weekend
		{"2025-12-24", "2026-01-02", 5}, // Christmas and New Year's Day
	}
	for _, tt := range tests {
		from, _ := calendar.ParseDate(tt.from)
		to, _ := calendar.ParseDate(tt.to)
		if got := cal.BusinessDaysBetween(from, to); got != tt.want {
			t.Errorf("BusinessDaysBetween(%s, %s) = %d, want %d", tt.from, tt.to, got, tt.want)
		}
	}
}

func TestEvidenceOptOutLatencyFlagsTheTenBusinessDayRule(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme, bright := mustCustomer(t, db, "acme"), mustCustomer(t, db, "bright")
	// Times are 18:00Z: 10:00 or 11:00 in Los Angeles, the same civil date.
	tests := []struct {
		customer *customers.Customer
		to       string
		source   string
		happened string
		recorded string
	}{
		{acme, "+14155550101", "manual", "2025-03-03T18:00:00Z", "2025-03-03T18:00:00Z"},          // 0 days
		{acme, "+14155550102", "manual", "2025-03-03T18:00:00Z", "2025-03-17T18:00:00Z"},          // 10: the limit, in time
		{acme, "+14155550103", "api", "2025-03-03T18:00:00Z", "2025-03-18T18:00:00Z"},             // 11: late
		{bright, "+14155550104", "csv_import", "2025-07-03T18:00:00Z", "2025-07-07T18:00:00Z"},    // 1 (holiday and weekend)
		{bright, "+14155550105", "csv_import", "2025-02-03T18:00:00Z", "2025-02-04T18:00:00Z"},    // before the range
		{bright, "+14155550106", "inbound_reply", "2025-06-02T18:00:00Z", "2025-07-01T18:00:00Z"}, // 20: late
	}
	for _, tt := range tests {
		// The ledger is append-only and stamps "now": write the history
		// as the rows it would have made.
		c, err := db.CreateContact(ctx, modeltest.Staff, tt.customer.ID, consent.ContactInput{Identifiers: []string{tt.to}}, "US")
		if err != nil {
			t.Fatal(err)
		}
		exec(t, db, `INSERT INTO consent_events (customer_id, id, contact_id, identifier, channel, kind, reason, source, evidence,
			actor_type, actor_id, actor_label, occurred_at, recorded_at) VALUES (?, ?, ?, '', 'all', 'opt_out', 'opt_out', ?, '', 'system', 'test', 'test', ?, ?)`,
			tt.customer.ID, uuid.NewString(), c.ID, tt.source, at(t, tt.happened), at(t, tt.recorded))
	}
	rep, err := db.OptOutLatencyReport(ctx, modeltest.Staff, la(t), at(t, "2025-03-01T08:00:00Z"), at(t, "2025-12-01T08:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	want := []casework.OptOutLatencyGroup{
		{Customer: "ACME", Source: "api", OptOuts: 1, MedianDays: 11, MaxDays: 11, Late: 1},
		{Customer: "ACME", Source: "manual", OptOuts: 2, MedianDays: 5, MaxDays: 10, Late: 0},
		{Customer: "BRIGHT", Source: "csv_import", OptOuts: 1, MedianDays: 1, MaxDays: 1, Late: 0},
		{Customer: "BRIGHT", Source: "inbound_reply", OptOuts: 1, MedianDays: 20, MaxDays: 20, Late: 1},
	}
	if len(rep.Groups) != len(want) {
		t.Fatalf("groups %+v, want %+v", rep.Groups, want)
	}
	for i := range want {
		if rep.Groups[i] != want[i] {
			t.Errorf("group %d: %+v, want %+v", i, rep.Groups[i], want[i])
		}
	}
	if len(rep.Late) != 2 || rep.Late[0].Days+rep.Late[1].Days != 31 {
		t.Errorf("late opt-outs: %+v", rep.Late)
	}
	tbl := rep.Table(time.UTC)
	flagged := 0
	for _, f := range tbl.Flagged {
		if f {
			flagged++
		}
	}
	if flagged != 4 { // two groups and the two late opt-outs
		t.Errorf("%d rows flagged, want 4", flagged)
	}
	// A customer sees its own opt-outs only.
	own, err := db.OptOutLatencyReport(ctx, customerActor(t, db, bright), la(t), at(t, "2025-01-01T08:00:00Z"), at(t, "2025-12-01T08:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range own.Groups {
		if g.Customer != "BRIGHT" {
			t.Errorf("bright's report shows %+v", g)
		}
	}
}

func TestEvidenceReplyQueueAge(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme, bright := mustCustomer(t, db, "acme"), mustCustomer(t, db, "bright")
	today := calendar.TodayIn(la(t).Loc)
	tests := []struct {
		customer *customers.Customer
		from     string
		daysAgo  int
	}{
		{acme, "+14155550111", 30},
		{acme, "+14155550112", 1},
		{bright, "+14155550113", 0},
	}
	for _, tt := range tests {
		received := time.Now().AddDate(0, 0, -tt.daysAgo)
		r, err := db.RecordInbound(ctx, modeltest.Staff, tt.customer.ID, tt.from, "I can't stop laughing", received, "US", la(t))
		if err != nil || r.Action != "review" {
			t.Fatalf("reply: %+v, %v", r, err)
		}
	}
	rows, err := db.ReplyQueueReport(ctx, modeltest.Staff, la(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Customer != "ACME" || rows[0].Waiting != 2 || rows[0].Overdue != 1 ||
		rows[1].Customer != "BRIGHT" || rows[1].Waiting != 1 || rows[1].Overdue != 0 {
		t.Fatalf("rows %+v", rows)
	}
	oldest := calendar.DateOf(time.Now().AddDate(0, 0, -30), la(t).Loc)
	if want := la(t).Calendar.BusinessDaysBetween(oldest, today); rows[0].OldestDays != want || want < 18 {
		t.Errorf("oldest waited %d business days, want %d", rows[0].OldestDays, want)
	}
}

func TestEvidenceOnTimePerRequest(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	rs := makeHistory(t, db, year2025)
	rep, err := db.OnTimeRequests(ctx, modeltest.Staff, la(t), at(t, "2025-01-01T08:00:00Z"), at(t, "2026-01-01T08:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	byRef := map[string]casework.OnTimeRequest{}
	for _, q := range rep.Requests {
		byRef[q.Reference] = q
	}
	tests := []struct {
		name, onTime, answeredOn, by string
	}{
		{"access", "yes", "2025-03-11", "test"},
		{"know-partial-late", "no", "2025-06-20", "test"},
		{"portability-denied", "yes", "2025-07-05", "test"},
		{"know-open", "late", "", ""},
		{"erasure-extended", "yes", "2025-03-05", "test"},
		{"delete-withdrawn", "withdrawn", "", ""},
	}
	for _, tt := range tests {
		q, ok := byRef[rs[tt.name].Reference]
		if !ok {
			t.Errorf("%s is not in the report", tt.name)
			continue
		}
		if q.OnTime != tt.onTime || q.AnsweredOn != tt.answeredOn || q.CompletedBy != tt.by {
			t.Errorf("%s: on time %q, answered %q by %q; want %q, %q, %q", tt.name, q.OnTime, q.AnsweredOn, q.CompletedBy, tt.onTime, tt.answeredOn, tt.by)
		}
	}
	groups := map[[2]string]casework.OnTimeGroup{}
	for _, g := range rep.Groups {
		groups[[2]string{g.Regime, g.Type}] = g
	}
	if g := groups[[2]string{"ccpa", "know"}]; g.Answered != 1 || g.InTime != 0 {
		t.Errorf("ccpa know: %+v", g)
	}
	if g := groups[[2]string{"gdpr", "access"}]; g.Answered != 1 || g.InTime != 1 {
		t.Errorf("gdpr access: %+v", g)
	}
	if g := groups[[2]string{"ccpa", "delete"}]; g.Answered != 1 || g.InTime != 1 {
		t.Errorf("ccpa delete (one withdrawn, left out): %+v", g)
	}
}

func TestEvidenceAccessReviewTellsWhoHeldWhichRoleWhen(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	admin := store.StaffUser(uuid.NewString(), "root@sendara.test", "")
	u, err := db.CreateUser(ctx, admin, accounts.UserInput{Email: "ann@sendara.test", Role: accounts.RoleAuditor})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetUserRole(ctx, admin, u.ID, accounts.RolePrivacyOfficer); err != nil {
		t.Fatal(err)
	}
	if err := db.SetUserDisabled(ctx, admin, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateUser(ctx, admin, accounts.UserInput{Email: "bo@acme.test", Role: accounts.RoleCustomerAgent, CustomerID: acme.ID}); err != nil {
		t.Fatal(err)
	}
	ps, err := db.AccessReview(ctx, modeltest.Staff, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	var ann, bo []casework.RolePeriod
	for _, p := range ps {
		switch p.Email {
		case "ann@sendara.test":
			ann = append(ann, p)
		case "bo@acme.test":
			bo = append(bo, p)
		}
	}
	tests := []struct {
		got                 []casework.RolePeriod
		roles               []string
		open                []bool
		customer, mfa, name string
	}{
		{ann, []string{"auditor", "privacy_officer"}, []bool{false, false}, "", "none", "ann"},
		{bo, []string{"customer_agent"}, []bool{true}, "ACME", "none", "bo"},
	}
	for _, tt := range tests {
		if len(tt.got) != len(tt.roles) {
			t.Fatalf("%s: %+v", tt.name, tt.got)
		}
		for i, p := range tt.got {
			if p.Role != tt.roles[i] || (p.Until == nil) != tt.open[i] || p.Customer != tt.customer || p.SecondFactor != tt.mfa ||
				p.GrantedBy != "root@sendara.test" {
				t.Errorf("%s period %d: %+v", tt.name, i, p)
			}
		}
	}
	if !ann[0].Until.Equal(ann[1].From) || !ann[1].Disabled {
		t.Errorf("ann's auditor role should end when the officer role starts, and she is disabled: %+v", ann)
	}
}

func TestEvidenceErasureCompleteness(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme, bright, cora := mustCustomer(t, db, "acme"), mustCustomer(t, db, "bright"), mustCustomer(t, db, "cora")
	rs := makeHistory(t, db, []history{
		{name: "clean", typ: "erasure", regime: "gdpr", received: "2025-03-01T18:00:00Z", close: "completed", closedAt: "2025-03-11T18:00:00Z"},
		{name: "left", typ: "delete", regime: "ccpa", received: "2025-03-01T18:00:00Z", close: "completed", closedAt: "2025-03-12T18:00:00Z"},
		{name: "held", typ: "erasure", regime: "gdpr", received: "2025-03-01T18:00:00Z", close: "completed", closedAt: "2025-03-13T18:00:00Z"},
		{name: "access", typ: "access", regime: "gdpr", received: "2025-03-01T18:00:00Z", close: "completed", closedAt: "2025-03-13T18:00:00Z"},
	})
	ids := map[string]string{"clean": "clean@example.com", "left": "left@example.com", "held": "held@example.com", "access": "left@example.com"}
	for name, id := range ids {
		exec(t, db, "UPDATE privacy_requests SET subject_identifiers = ? WHERE id = ?", `["`+id+`"]`, rs[name].ID)
	}
	for _, c := range []struct {
		customer *customers.Customer
		id       string
	}{{acme, "left@example.com"}, {bright, "held@example.com"}, {cora, "someone@example.com"}} {
		if _, err := db.CreateContact(ctx, modeltest.Staff, c.customer.ID, consent.ContactInput{Identifiers: []string{c.id}}, "US"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.HoldIdentifier(ctx, modeltest.Staff, bright.ID, "held@example.com", "litigation: case 25-1234", "US"); err != nil {
		t.Fatal(err)
	}
	cs, err := db.ErasureCompleteness(ctx, modeltest.Staff, at(t, "2025-03-01T08:00:00Z"), at(t, "2025-04-01T08:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]casework.ErasureCheck{}
	for _, c := range cs {
		got[c.Reference] = c
	}
	tests := []struct {
		name     string
		complete bool
		left     string
		held     string
	}{
		{"clean", true, "", ""},
		{"left", false, "ACME", ""},
		{"held", true, "", "BRIGHT"},
	}
	if len(cs) != len(tests) {
		t.Fatalf("checks %+v: the access request is no erasure", cs)
	}
	for _, tt := range tests {
		c := got[rs[tt.name].Reference]
		if c.Complete != tt.complete || evidenceJoin(c.LeftAt) != tt.left || evidenceJoin(c.HeldAt) != tt.held {
			t.Errorf("%s: %+v", tt.name, c)
		}
	}
}

func evidenceJoin(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += "; "
		}
		out += s
	}
	return out
}

func TestEvidenceExportsOfPersonalData(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	officer := store.StaffUser(uuid.NewString(), "officer@sendara.test", "")
	entries := []store.Audit{
		{Action: "contact.export", ObjectType: "contact", CustomerID: acme.ID, Details: map[string]any{"filter": "all"}},
		{Action: "request.case_file_export", ObjectType: "request", ObjectID: uuid.NewString(), Details: map[string]any{"reference": "PR-2026-000001"}},
		{Action: "contact.view", ObjectType: "contact", CustomerID: acme.ID}, // a view, no export
	}
	for _, e := range entries {
		if err := db.Record(ctx, officer, e); err != nil {
			t.Fatal(err)
		}
	}
	es, err := db.PersonalDataExports(ctx, modeltest.Staff, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[0].Action != "request.case_file_export" || es[0].Object != "PR-2026-000001" || es[0].Who != "officer@sendara.test" ||
		es[1].Action != "contact.export" || es[1].Customer != "ACME" {
		t.Fatalf("exports %+v", es)
	}
	// A customer admin sees the exports of its own data only.
	own, err := db.PersonalDataExports(ctx, customerActor(t, db, acme), time.Now().Add(-time.Hour), time.Now().Add(time.Hour), 100)
	if err != nil || len(own) != 1 || own[0].Action != "contact.export" {
		t.Fatalf("acme's exports %+v, %v", own, err)
	}
}

func TestEvidenceRolePeriodsDuring(t *testing.T) {
	t.Parallel()
	at := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, time.UTC) }
	ptr := func(t time.Time) *time.Time { return &t }
	ps := []casework.RolePeriod{
		{Email: "old@x", From: at(2023, 3, 1), Until: ptr(at(2024, 6, 1))},                               // ended before 2025
		{Email: "span@x", From: at(2024, 3, 1), Until: ptr(at(2025, 2, 1))},                              // ended in 2025
		{Email: "open@x", From: at(2022, 1, 1)},                                                          // still running
		{Email: "in@x", From: at(2025, 5, 1), Until: ptr(at(2025, 6, 1))},                                // within 2025
		{Email: "later@x", From: at(2026, 1, 2)},                                                         // begun after 2025
		{Email: "edge@x", From: at(2024, 1, 1), Until: ptr(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))}, // ended at the start
	}
	for _, tc := range []struct {
		name     string
		from, to time.Time
		want     string
	}{
		{"2025", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "span@x open@x in@x edge@x"},
		{"2023", time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), "old@x open@x"},
		{"2021", time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC), ""},
		{"2026", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), "open@x later@x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, p := range casework.RolePeriodsDuring(ps, tc.from, tc.to) {
				got = append(got, p.Email)
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("got %q, want %q", strings.Join(got, " "), tc.want)
			}
		})
	}
}
