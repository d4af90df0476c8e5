package models_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	consent "github.com/sendara/console/models/consent"

	customers "github.com/sendara/console/models/customers"

	errs "github.com/sendara/console/models/errs"

	registers "github.com/sendara/console/models/registers"

	requests "github.com/sendara/console/models/requests"

	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

func TestSetRetentionDaysRefusesRulesTheLawDoesNotAllow(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	cases := []struct {
		name, category, days string
		field, message       string // empty: accepted
	}{
		{"24 months for closed requests", registers.RetainClosedRequests, "730", "", ""},
		{"less than 24 months for closed requests", registers.RetainClosedRequests, "729", "days", "CCPA §7101"},
		{"a year for communication records", registers.RetainCommunications, "365", "", ""},
		{"no days at all", registers.RetainCommunications, "0", "days", "at least 1"},
		{"not a number", registers.RetainSessions, "thirty", "days", "whole number"},
		{"more than ten years", registers.RetainBundles, "3651", "days", "place a hold"},
		{"an unknown category", "audit_log", "30", "category", "not a retention category"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := db.SetRetentionDays(ctx, modeltest.Staff, tc.category, tc.days)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if rules, _ := db.RetentionRules(ctx, modeltest.Staff); !hasRule(rules, tc.category, r.Days) {
					t.Errorf("rules after the change: %+v", rules)
				}
				return
			}
			v, ok := errs.AsValidation(err)
			if !ok || v.Field != tc.field || !strings.Contains(v.Message, tc.message) {
				t.Fatalf("err = %v, want %s: …%s…", err, tc.field, tc.message)
			}
		})
	}
	if _, err := db.SetRetentionDays(ctx, store.CustomerUser(uuid.NewString(), "admin@acme.test", uuid.NewString(), ""), registers.RetainSessions, "10"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a customer user changed a rule: %v", err)
	}
	e := newestAudit(t, db, "retention.rule_change")
	if e == nil || !strings.Contains(e.Details, `"before":730`) || !strings.Contains(e.Details, `"after":365`) {
		t.Errorf("rule change audit: %+v", e)
	}
}

func hasRule(rules []registers.RetentionRule, category string, days int) bool {
	for _, r := range rules {
		if r.Category == category {
			return r.Days == days
		}
	}
	return false
}

func newestAudit(t *testing.T, db *models.DB, action string) *store.AuditEvent {
	t.Helper()
	events, err := db.ListAudit(context.Background(), modeltest.Staff, store.AuditFilter{Action: action, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) == 0 {
		return nil
	}
	return &events[0]
}

// retentionFixture is data of every category, old enough to be swept,
// with holds in the way of some of it.
type retentionFixture struct {
	acme, beta                   *customers.Customer
	plain, heldByID, heldByHash  *consent.Contact
	closed, closedHeld, open     *requests.PrivacyRequest
	recentComm                   string
	oldMailOpen, oldMailUnlinked string
}

var longAgo = time.Now().AddDate(-3, 0, 0)

func execSQL(t *testing.T, db *models.DB, sql string, args ...any) {
	t.Helper()
	if err := db.Gorm.Exec(sql, args...).Error; err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func communication(t *testing.T, db *models.DB, c *consent.Contact, at time.Time) string {
	t.Helper()
	rec, err := db.RecordCommunication(context.Background(), modeltest.Staff, c.CustomerID, registers.CommunicationInput{ContactID: c.ID,
		Channel: consent.ChannelIMessage, Direction: registers.DirectionOutbound, DeliveryStatus: "delivered", OccurredAt: at})
	if err != nil {
		t.Fatal(err)
	}
	return rec.ID
}

func newRetentionFixture(t *testing.T, db *models.DB) *retentionFixture {
	t.Helper()
	ctx := context.Background()
	f := &retentionFixture{acme: newCustomer(t, db, "acme"), beta: newCustomer(t, db, "beta")}
	contact := func(c *customers.Customer, id string) *consent.Contact {
		k, err := db.CreateContact(ctx, modeltest.Staff, c.ID, consent.ContactInput{Identifiers: []string{id}}, "US")
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	f.plain, f.heldByID, f.heldByHash = contact(f.acme, "+14155550101"), contact(f.acme, "+14155550102"), contact(f.acme, "+14155550103")
	betaContact := contact(f.beta, "+14155550104")
	for _, c := range []*consent.Contact{f.plain, f.plain, f.heldByID, f.heldByHash, betaContact} {
		communication(t, db, c, longAgo)
	}
	f.recentComm = communication(t, db, f.plain, time.Now().Add(-time.Hour))
	execSQL(t, db, "INSERT INTO legal_holds (customer_id, id, contact_id, reason, created_by, created_at) VALUES (?, ?, ?, 'litigation', 'test', ?)",
		f.acme.ID, uuid.NewString(), f.heldByID.ID, time.Now())
	if _, err := db.HoldIdentifier(ctx, modeltest.Staff, f.acme.ID, "+14155550103", "regulator inquiry", "US"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PlaceRetentionHold(ctx, modeltest.Staff, registers.RetentionHoldInput{CustomerID: f.beta.ID, Reason: "tax audit"}); err != nil {
		t.Fatal(err)
	}

	request := func(email string) *requests.PrivacyRequest {
		return newRequest(t, db, requests.RequestInput{Type: calendar.TypeAccess, Regime: "gdpr", CustomerID: f.acme.ID,
			Identifiers: []string{email}, Requester: requests.Requester{Name: "Jane Doe", Email: email}})
	}
	f.closed, f.closedHeld, f.open = request("jane@example.com"), request("john@example.com"), request("joan@example.com")
	for _, r := range []*requests.PrivacyRequest{f.closed, f.closedHeld} {
		execSQL(t, db, "UPDATE privacy_requests SET status = 'completed', completed_at = ? WHERE id = ?", longAgo, r.ID)
	}
	if _, err := db.PlaceRetentionHold(ctx, modeltest.Staff, registers.RetentionHoldInput{Reference: f.closedHeld.Reference, Reason: "court order"}); err != nil {
		t.Fatal(err)
	}

	f.oldMailOpen, f.oldMailUnlinked = uuid.NewString(), uuid.NewString()
	execSQL(t, db, "INSERT INTO inbound_mail (id, received_at, from_addr, raw, request_id, customer_id) VALUES (?, ?, 'joan@example.com', ?, ?, ?)",
		f.oldMailOpen, longAgo, []byte("Subject: open"), f.open.ID, f.acme.ID)
	execSQL(t, db, "INSERT INTO inbound_mail (id, received_at, from_addr, raw, customer_id) VALUES (?, ?, 'x@example.com', ?, ?)",
		f.oldMailUnlinked, longAgo, []byte("Subject: old"), f.acme.ID)
	execSQL(t, db, "INSERT INTO outbox (id, customer_id, kind, to_addr, subject, body_text, status, next_attempt_at, created_at) VALUES (?, ?, 'other', 'admin@acme.test', 's', 'old body', 'sent', ?, ?)",
		uuid.NewString(), f.acme.ID, longAgo, longAgo)
	execSQL(t, db, "INSERT INTO outbox (id, customer_id, kind, to_addr, subject, body_text, status, next_attempt_at, created_at) VALUES (?, ?, 'other', 'admin@acme.test', 's', 'not sent yet', 'queued', ?, ?)",
		uuid.NewString(), f.acme.ID, longAgo, longAgo)
	job := uuid.NewString()
	execSQL(t, db, "INSERT INTO import_jobs (customer_id, id, kind, file_name, file_sha256, file_size, status, created_at, finished_at) VALUES (?, ?, 'opt_outs', 'a.csv', 'x', 3, 'done', ?, ?)",
		f.acme.ID, job, longAgo, longAgo)
	execSQL(t, db, "INSERT INTO import_chunks (job_id, n, data) VALUES (?, 0, ?)", job, []byte("a,b"))
	execSQL(t, db, "INSERT INTO request_exports (id, request_id, customer_id, token_hash, expires_at, created_at, size, sha256, data) VALUES (?, ?, ?, 't1', ?, ?, 3, 'x', ?)",
		uuid.NewString(), f.open.ID, f.acme.ID, longAgo, longAgo, []byte("zip"))
	staff, err := db.CreateUser(ctx, modeltest.Staff, accounts.UserInput{Email: "old@sendara.test", Role: accounts.RoleAuditor, Password: "a long test passphrase 7"})
	if err != nil {
		t.Fatal(err)
	}
	execSQL(t, db, "INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at) VALUES ('old-session', ?, ?, ?, ?)",
		staff.ID, longAgo, longAgo, longAgo)
	return f
}

// byCategory folds counts into category → customer name ("-" for none).
func byCategory(counts []registers.RetentionCount) map[string]map[string]int64 {
	out := map[string]map[string]int64{}
	for _, c := range counts {
		name := c.CustomerName
		if c.CustomerID == "" {
			name = "-"
		}
		if out[c.Category] == nil {
			out[c.Category] = map[string]int64{}
		}
		out[c.Category][name] += c.Count
	}
	return out
}

func TestRetentionPreviewCountsWhatIsDueAndRespectsHolds(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	newRetentionFixture(t, db)
	counts, err := db.RetentionPreview(ctx, modeltest.Staff, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	got := byCategory(counts)
	// acme's two old records of the plain contact go; the contact held by
	// id and the one held by identifier hash keep theirs, beta is held.
	want := map[string]map[string]int64{
		registers.RetainCommunications: {"Customer acme": 2},
		registers.RetainInboundMail:    {"Customer acme": 1},
		registers.RetainOutboxBodies:   {"Customer acme": 1},
		registers.RetainClosedRequests: {"Customer acme": 1},
		registers.RetainImportFiles:    {"Customer acme": 1},
		registers.RetainBundles:        {"Customer acme": 1},
		registers.RetainSessions:       {"-": 1},
	}
	if !equalCounts(got, want) {
		t.Errorf("preview = %v\nwant      %v", got, want)
	}
	if newestAudit(t, db, "retention.preview") == nil {
		t.Error("the preview is not audited")
	}
	if _, err := db.RetentionPreview(ctx, store.CustomerUser(uuid.NewString(), "admin@acme.test", uuid.NewString(), ""), time.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a customer user previewed the sweep: %v", err)
	}
}

func equalCounts(a, b map[string]map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, m := range a {
		if len(m) != len(b[k]) {
			return false
		}
		for n, v := range m {
			if b[k][n] != v {
				return false
			}
		}
	}
	return true
}

func countSQL(t *testing.T, db *models.DB, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.Gorm.Raw(sql, args...).Scan(&n).Error; err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func TestSweepRemovesWhatThePreviewShowedAndKeepsTheRest(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	f := newRetentionFixture(t, db)
	run, err := db.SweepRetention(ctx, modeltest.Staff, "instance-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if run.Removed != 8 {
		t.Errorf("removed %d rows, want 8 (%s)", run.Removed, run.Counts)
	}
	checks := []struct {
		what string
		sql  string
		args []any
		want int64
	}{
		{"communications left at acme (recent, held by id, held by hash)", "SELECT COUNT(*) FROM communications WHERE customer_id = ?", []any{f.acme.ID}, 3},
		{"the recent record", "SELECT COUNT(*) FROM communications WHERE id = ?", []any{f.recentComm}, 1},
		{"beta's records under the customer hold", "SELECT COUNT(*) FROM communications WHERE customer_id = ?", []any{f.beta.ID}, 1},
		{"mail of an open request", "SELECT COUNT(*) FROM inbound_mail WHERE id = ?", []any{f.oldMailOpen}, 1},
		{"old unlinked mail", "SELECT COUNT(*) FROM inbound_mail WHERE id = ?", []any{f.oldMailUnlinked}, 0},
		{"old sent bodies", "SELECT COUNT(*) FROM outbox WHERE body_text = 'old body'", nil, 0},
		{"queued mail keeps its body", "SELECT COUNT(*) FROM outbox WHERE body_text = 'not sent yet'", nil, 1},
		{"stored import files", "SELECT COUNT(*) FROM import_chunks", nil, 0},
		{"bundle data", "SELECT COUNT(*) FROM request_exports WHERE data IS NOT NULL", nil, 0},
		{"expired sessions", "SELECT COUNT(*) FROM sessions WHERE id_hash = 'old-session'", nil, 0},
		{"the swept request's requester", "SELECT COUNT(*) FROM privacy_requests WHERE id = ? AND requester_email = '' AND requester_name = ''", []any{f.closed.ID}, 1},
		{"the swept request's identifiers", "SELECT COUNT(*) FROM request_identifiers WHERE request_id = ?", []any{f.closed.ID}, 0},
		{"the held request's requester", "SELECT COUNT(*) FROM privacy_requests WHERE id = ? AND requester_email = 'john@example.com'", []any{f.closedHeld.ID}, 1},
		{"the open request's requester", "SELECT COUNT(*) FROM privacy_requests WHERE id = ? AND requester_email = 'joan@example.com'", []any{f.open.ID}, 1},
	}
	for _, c := range checks {
		if got := countSQL(t, db, c.sql, c.args...); got != c.want {
			t.Errorf("%s: %d, want %d", c.what, got, c.want)
		}
	}
	r, err := db.Request(ctx, modeltest.Staff, f.closed.ID)
	if err != nil {
		t.Fatalf("the swept request is gone: %v", err)
	}
	if r.Reference != f.closed.Reference || r.Status != requests.StatusCompleted {
		t.Errorf("swept request kept %s %s", r.Reference, r.Status)
	}
	if e := newestAudit(t, db, "retention.sweep"); e == nil || !strings.Contains(e.Details, `"count":`) {
		t.Errorf("sweep audit: %+v", e)
	}
	if e := newestAudit(t, db, "retention.run"); e == nil || !strings.Contains(e.Details, `"removed":8`) {
		t.Errorf("run audit: %+v", e)
	}
	if rep, err := db.VerifyAudit(ctx); err != nil || !rep.Intact() {
		t.Errorf("audit chain after the sweep: %+v %v", rep, err)
	}
	again, err := db.RetentionPreview(ctx, modeltest.Staff, time.Now())
	if err != nil || len(again) != 0 {
		t.Errorf("due after the sweep: %v %v", again, err)
	}

	holds, err := db.RetentionHolds(ctx, modeltest.Staff)
	if err != nil || len(holds) != 2 {
		t.Fatalf("holds %+v %v", holds, err)
	}
	for _, h := range holds {
		if err := db.ReleaseRetentionHold(ctx, modeltest.Staff, h.ID); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.RetentionPreview(ctx, modeltest.Staff, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]int64{registers.RetainCommunications: {"Customer beta": 1}, registers.RetainClosedRequests: {"Customer acme": 1}}
	if g := byCategory(got); !equalCounts(g, want) {
		t.Errorf("due once the holds are released = %v, want %v", g, want)
	}
}

func TestOnlyOneInstanceSweepsAtATime(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	execSQL(t, db, "UPDATE retention_lock SET holder = 'instance-2', lease_until = ?", time.Now().Add(time.Minute))
	if _, err := db.SweepRetention(ctx, modeltest.Staff, "instance-1", time.Now()); !errors.Is(err, registers.ErrSweepBusy) {
		t.Fatalf("sweep while another instance holds the lease: %v", err)
	}
	execSQL(t, db, "UPDATE retention_lock SET lease_until = ?", time.Now().Add(-time.Second))
	if _, err := db.SweepRetention(ctx, modeltest.Staff, "instance-1", time.Now()); err != nil {
		t.Fatalf("sweep once the lease ran out: %v", err)
	}
	if n := countSQL(t, db, "SELECT COUNT(*) FROM retention_lock WHERE holder = ''"); n != 1 {
		t.Error("the sweep did not give the lease back")
	}
}

func TestRetentionHoldNeedsACustomerOrARequestAndAReason(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	cases := []struct {
		name  string
		in    registers.RetentionHoldInput
		field string
	}{
		{"neither", registers.RetentionHoldInput{Reason: "x"}, "customer"},
		{"both", registers.RetentionHoldInput{CustomerID: acme.ID, Reference: "PR-2026-000001", Reason: "x"}, "customer"},
		{"no reason", registers.RetentionHoldInput{CustomerID: acme.ID}, "reason"},
		{"unknown reference", registers.RetentionHoldInput{Reference: "PR-1999-000001", Reason: "x"}, "reference"},
		{"unknown customer", registers.RetentionHoldInput{CustomerID: uuid.NewString(), Reason: "x"}, "customer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := db.PlaceRetentionHold(context.Background(), modeltest.Staff, tc.in)
			if v, ok := errs.AsValidation(err); !ok || v.Field != tc.field {
				t.Errorf("err = %v, want a problem with %s", err, tc.field)
			}
		})
	}
}
