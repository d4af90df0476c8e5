package models_test

import (
	calendar "github.com/sendara/console/models/calendar"
	casework "github.com/sendara/console/models/casework"

	requests "github.com/sendara/console/models/requests"

	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

func TestReportOutcomeClassifiesPartialAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status, outcome, want string
	}{
		{requests.StatusCompleted, "complied", requests.OutcomeComplied},
		{requests.StatusCompleted, "", requests.OutcomeComplied},
		{requests.StatusCompleted, "Sent the export on 3 March", requests.OutcomeComplied},
		{requests.StatusCompleted, "Partial: call recordings withheld (trade secrets)", requests.OutcomeCompliedInPart},
		{requests.StatusCompleted, "  partially — one record kept for a legal hold", requests.OutcomeCompliedInPart},
		{requests.StatusCompleted, "Partly erased", requests.OutcomeCompliedInPart},
		{requests.StatusCompleted, "In part: billing records kept", requests.OutcomeCompliedInPart},
		{requests.StatusCompleted, "Complied in part; logs kept", requests.OutcomeCompliedInPart},
		{requests.StatusCompleted, "complied_in_part", requests.OutcomeCompliedInPart},
		{requests.StatusCompleted, "Complied with in part", requests.OutcomeCompliedInPart},
		{requests.StatusCompleted, "Complied; a party was notified", requests.OutcomeComplied},
		{requests.StatusDenied, "denied", requests.OutcomeDenied},
		{requests.StatusWithdrawn, "withdrawn", requests.OutcomeWithdrawn},
		{requests.StatusInProgress, "", requests.OutcomeOpen},
		{requests.StatusReceived, "", requests.OutcomeOpen},
	}
	for _, tt := range tests {
		if got := requests.OutcomeOf(tt.status, tt.outcome); got != tt.want {
			t.Errorf("OutcomeOf(%s, %q) = %s, want %s", tt.status, tt.outcome, got, tt.want)
		}
	}
}

// history is a request with its past: when it was received and how and
// when it closed.
type history struct {
	name       string
	typ        string // "" leaves it untriaged
	regime     string
	received   string // RFC 3339
	close      string // completed, partial, denied, withdrawn or "" (open)
	closedAt   string // RFC 3339
	extendedTo string
}

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// makeHistory records the requests and moves each through its lifecycle;
// the closing time is then set directly, as SetStatus stamps "now".
func makeHistory(t *testing.T, db *models.DB, hs []history) map[string]*requests.PrivacyRequest {
	t.Helper()
	ctx := context.Background()
	out := map[string]*requests.PrivacyRequest{}
	for _, h := range hs {
		r := newRequest(t, db, requests.RequestInput{Type: h.typ, Regime: h.regime, ReceivedAt: at(t, h.received),
			Requester: requests.Requester{Name: h.name, Email: "person@example.com"}})
		var err error
		switch h.close {
		case "completed", "partial":
			note := "complied"
			if h.close == "partial" {
				note = "Partial: call recordings withheld"
			}
			if _, err = db.VerifyManually(ctx, modeltest.Staff, r.ID, "email_reply", "replied from the address on file"); err == nil {
				if _, err = db.SetStatus(ctx, modeltest.Staff, r.ID, requests.StatusInProgress, ""); err == nil {
					_, err = db.SetStatus(ctx, modeltest.Staff, r.ID, requests.StatusCompleted, note)
				}
			}
		case "denied":
			_, err = db.SetStatus(ctx, modeltest.Staff, r.ID, requests.StatusDenied, "could not verify the requester")
		case "withdrawn":
			_, err = db.SetStatus(ctx, modeltest.Staff, r.ID, requests.StatusWithdrawn, "")
		}
		if err != nil {
			t.Fatalf("%s: close %s: %v", h.name, h.close, err)
		}
		if h.closedAt != "" {
			exec(t, db, "UPDATE privacy_requests SET completed_at = ? WHERE id = ?", at(t, h.closedAt), r.ID)
		}
		if h.extendedTo != "" {
			exec(t, db, "UPDATE privacy_requests SET extended_to = ? WHERE id = ?", h.extendedTo, r.ID)
		}
		if r, err = db.Request(ctx, modeltest.Staff, r.ID); err != nil {
			t.Fatal(err)
		}
		out[h.name] = r
	}
	return out
}

func exec(t *testing.T, db *models.DB, sql string, args ...any) {
	t.Helper()
	if err := db.Gorm.Exec(sql, args...).Error; err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// year2025 is a year of requests in Los Angeles. Times are UTC; 18:00Z is
// 10:00 or 11:00 in Los Angeles, the same civil date.
var year2025 = []history{
	// know: 10, 50 and 4 days; one still open and past due.
	{name: "access", typ: "access", regime: "gdpr", received: "2025-03-01T18:00:00Z", close: "completed", closedAt: "2025-03-11T18:00:00Z"},
	{name: "know-partial-late", typ: "know", regime: "ccpa", received: "2025-05-01T18:00:00Z", close: "partial", closedAt: "2025-06-20T18:00:00Z"},
	{name: "portability-denied", typ: "portability", regime: "gdpr", received: "2025-07-01T18:00:00Z", close: "denied", closedAt: "2025-07-05T18:00:00Z"},
	{name: "know-open", typ: "know", regime: "ccpa", received: "2025-08-01T18:00:00Z"},
	// delete: 32 days (late against due_on, in time against the
	// extension) and 20 days; one withdrawn.
	{name: "erasure-extended", typ: "erasure", regime: "gdpr", received: "2025-02-01T18:00:00Z", close: "completed", closedAt: "2025-03-05T18:00:00Z", extendedTo: "2025-05-01"},
	{name: "delete-withdrawn", typ: "delete", regime: "ccpa", received: "2025-09-01T18:00:00Z", close: "withdrawn", closedAt: "2025-09-02T18:00:00Z"},
	{name: "delete", typ: "delete", regime: "ccpa", received: "2025-10-01T18:00:00Z", close: "completed", closedAt: "2025-10-21T18:00:00Z"},
	// opt out: answered the same day.
	{name: "objection", typ: "objection", regime: "other", received: "2025-11-03T18:00:00Z", close: "completed", closedAt: "2025-11-03T20:00:00Z"},
	// other: untriaged and open past due.
	{name: "untriaged", regime: "other", received: "2025-12-01T18:00:00Z"},
	// correct: 2025-12-31 in Los Angeles (21:00), 2026-01-01 in UTC;
	// answered 2026-01-05, 5 days later.
	{name: "correct-new-year", typ: "correct", regime: "ccpa", received: "2026-01-01T05:00:00Z", close: "completed", closedAt: "2026-01-05T18:00:00Z"},
	// 2024-12-31 in Los Angeles (23:00), 2025-01-01 in UTC.
	{name: "access-2024", typ: "access", regime: "gdpr", received: "2025-01-01T07:00:00Z"},
	// 2026-01-01 in Los Angeles (01:00).
	{name: "access-2026", typ: "access", regime: "gdpr", received: "2026-01-01T09:00:00Z"},
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestMetricsCountOutcomesAndDaysPerType(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	makeHistory(t, db, year2025)
	m, err := db.Metrics(context.Background(), modeltest.Staff, 2025, la(t).Loc, "")
	if err != nil {
		t.Fatal(err)
	}
	want := []casework.TypeMetrics{
		{Type: "know", Received: 4, Complied: 1, CompliedInPart: 1, Denied: 1, Open: 1, Responded: 3, MedianDays: 10, MeanDays: 64.0 / 3},
		{Type: "delete", Received: 3, Complied: 2, Withdrawn: 1, Responded: 2, MedianDays: 26, MeanDays: 26},
		{Type: "correct", Received: 1, Complied: 1, Responded: 1, MedianDays: 5, MeanDays: 5},
		{Type: "opt_out_sale", Received: 1, Complied: 1, Responded: 1, MedianDays: 0, MeanDays: 0},
		{Type: "other", Received: 1, Open: 1},
	}
	if len(m.Types) != len(want) {
		t.Fatalf("%d types, want %d", len(m.Types), len(want))
	}
	for i, w := range want {
		g := m.Types[i]
		if g.Type != w.Type || g.Received != w.Received || g.Complied != w.Complied || g.CompliedInPart != w.CompliedInPart ||
			g.Denied != w.Denied || g.Withdrawn != w.Withdrawn || g.Open != w.Open || g.Responded != w.Responded ||
			!near(g.MedianDays, w.MedianDays) || !near(g.MeanDays, w.MeanDays) {
			t.Errorf("type %s:\n got %+v\nwant %+v", w.Type, g, w)
		}
	}
	// All answers: 0 4 5 10 20 32 50 days.
	total := casework.TypeMetrics{Received: 10, Complied: 5, CompliedInPart: 1, Denied: 1, Withdrawn: 1, Open: 2, Responded: 7,
		MedianDays: 10, MeanDays: 121.0 / 7}
	g := m.Total
	if g.Received != total.Received || g.Complied != total.Complied || g.CompliedInPart != total.CompliedInPart || g.Denied != total.Denied ||
		g.Withdrawn != total.Withdrawn || g.Open != total.Open || g.Responded != total.Responded ||
		!near(g.MedianDays, total.MedianDays) || !near(g.MeanDays, total.MeanDays) {
		t.Errorf("total:\n got %+v\nwant %+v", g, total)
	}
	// By month in Los Angeles: the new-year correction was received on
	// 2025-12-31 and answered in 2026, outside the year's answers.
	if want := [12]int{0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 2}; m.ReceivedByMonth != want {
		t.Errorf("received by month %v, want %v", m.ReceivedByMonth, want)
	}
	if want := [12]int{0, 0, 2, 0, 0, 1, 1, 0, 0, 1, 1, 0}; m.AnsweredByMonth != want {
		t.Errorf("answered by month %v, want %v", m.AnsweredByMonth, want)
	}
}

func TestMetricsYearFollowsTheBusinessTimeZone(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	makeHistory(t, db, year2025)
	tests := []struct {
		name                string
		loc                 *time.Location
		year                int
		received, corrected int
	}{
		{"2025 in Los Angeles ends at 08:00 UTC on 1 January", la(t).Loc, 2025, 10, 1},
		{"2024 in Los Angeles takes the request of 2025-01-01T07:00Z", la(t).Loc, 2024, 1, 0},
		{"2026 in Los Angeles starts at 08:00 UTC on 1 January", la(t).Loc, 2026, 1, 0},
		{"2025 in UTC", time.UTC, 2025, 10, 0},
		{"2026 in UTC", time.UTC, 2026, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := db.Metrics(context.Background(), modeltest.Staff, tt.year, tt.loc, "")
			if err != nil {
				t.Fatal(err)
			}
			if m.Total.Received != tt.received || m.Types[2].Received != tt.corrected {
				t.Errorf("received %d (correct %d), want %d (%d)", m.Total.Received, m.Types[2].Received, tt.received, tt.corrected)
			}
		})
	}
}

func TestOnTimeRateUsesTheEffectiveDueDatePerRegime(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	makeHistory(t, db, year2025)
	tests := []struct {
		regime string
		want   []casework.OnTime
		all    casework.OnTime
	}{
		{"", []casework.OnTime{
			{Regime: "gdpr", Answered: 3, InTime: 3},
			{Regime: "uk_gdpr"},
			// The partial answer came after day 45; the withdrawn one
			// is left out; the open one is past due.
			{Regime: "ccpa", Answered: 3, InTime: 2, OpenOverdue: 1},
			{Regime: "other", Answered: 1, InTime: 1, OpenOverdue: 1},
		}, casework.OnTime{Answered: 7, InTime: 6, OpenOverdue: 2}},
		{"ccpa", []casework.OnTime{{Regime: "ccpa", Answered: 3, InTime: 2, OpenOverdue: 1}},
			casework.OnTime{Answered: 3, InTime: 2, OpenOverdue: 1}},
	}
	for _, tt := range tests {
		t.Run("regime "+tt.regime, func(t *testing.T) {
			m, err := db.Metrics(context.Background(), modeltest.Staff, 2025, la(t).Loc, tt.regime)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(m.OnTime, tt.want) || m.OnTimeAll != tt.all {
				t.Errorf("on time:\n got %+v all %+v\nwant %+v all %+v", m.OnTime, m.OnTimeAll, tt.want, tt.all)
			}
		})
	}
	if r, ok := (casework.OnTime{Answered: 7, InTime: 6}).Rate(); !ok || !near(r, 6.0/7) {
		t.Errorf("rate %v %v, want 6/7", r, ok)
	}
	if _, ok := (casework.OnTime{}).Rate(); ok {
		t.Error("a rate over no answers")
	}
}

func TestMetricsRefuseABadYearOrRegime(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	tests := []struct {
		year   int
		regime string
		field  string
	}{
		{0, "", "year"},
		{2025, "mars", "regime"},
	}
	for _, tt := range tests {
		if _, err := db.Metrics(context.Background(), modeltest.Staff, tt.year, time.UTC, tt.regime); !isValidation(err, tt.field) {
			t.Errorf("year %d regime %q: %v, want a validation error on %s", tt.year, tt.regime, err, tt.field)
		}
	}
}

func TestRequestLogRowsHoldTheFactsSection7101Asks(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	rs := makeHistory(t, db, year2025)
	loc := la(t).Loc
	from, to := casework.DayRange(calendar.Date{Year: 2025, Month: time.January, Day: 1}, calendar.Date{Year: 2025, Month: time.December, Day: 31}, loc)
	var got [][]string
	n, err := db.RequestLog(context.Background(), modeltest.Staff, from, to, loc, func(r casework.RequestLogRow) error {
		got = append(got, r.Record())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if count, _ := db.CountRequestLog(context.Background(), modeltest.Staff, from, to); n != 10 || len(got) != 10 || count != 10 {
		t.Fatalf("%d rows (%d given, %d counted), want the 10 requests of 2025 in Los Angeles", n, len(got), count)
	}
	if want := []string{"reference", "date_of_request", "type", "regime", "channel", "date_of_response", "outcome", "denial_reason", "merged_references"}; !slices.Equal(casework.RequestLogColumns, want) {
		t.Errorf("columns %v, want %v", casework.RequestLogColumns, want)
	}
	byRef := map[string][]string{}
	for _, row := range got {
		byRef[row[0]] = row
	}
	tests := []struct {
		name string
		want []string // without the reference
	}{
		{"access", []string{"2025-03-01", "access", "gdpr", "api", "2025-03-11", "complied", "", ""}},
		{"know-partial-late", []string{"2025-05-01", "know", "ccpa", "api", "2025-06-20", "complied_in_part", "Partial: call recordings withheld", ""}},
		{"portability-denied", []string{"2025-07-01", "portability", "gdpr", "api", "2025-07-05", "denied", "could not verify the requester", ""}},
		{"know-open", []string{"2025-08-01", "know", "ccpa", "api", "", "open", "", ""}},
		{"delete-withdrawn", []string{"2025-09-01", "delete", "ccpa", "api", "2025-09-02", "withdrawn", "", ""}},
		{"untriaged", []string{"2025-12-01", "untriaged", "other", "api", "", "open", "", ""}},
		{"correct-new-year", []string{"2025-12-31", "correct", "ccpa", "api", "2026-01-05", "complied", "", ""}},
	}
	for _, tt := range tests {
		ref := rs[tt.name].Reference
		if row, ok := byRef[ref]; !ok || !slices.Equal(row[1:], tt.want) {
			t.Errorf("%s (%s): %q, want %q", tt.name, ref, row, tt.want)
		}
	}
	for i := 1; i < len(got); i++ {
		if got[i][1] < got[i-1][1] {
			t.Errorf("rows out of order of receipt: %s after %s", got[i][1], got[i-1][1])
		}
	}
}

func TestRequestLogStreamsEveryRowOnceAcrossPages(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	// More than two pages, inserted directly for speed; every tenth pair
	// shares an instant, so the pages must break ties by id.
	const n = 1203
	base := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	rows := make([]requests.PrivacyRequest, n)
	for i := range rows {
		received := base.Add(time.Duration(i/2) * time.Minute)
		typ := "access"
		rows[i] = requests.PrivacyRequest{ID: uuid.Must(uuid.NewV7()).String(), Reference: fmt.Sprintf("PR-2025-%06d", i+1), Type: &typ,
			Regime: "gdpr", Channel: "web_form", Status: requests.StatusReceived, RequesterEmail: "p@example.com", SubjectIdentifiers: "[]",
			Relationship: "end_user", ReceivedAt: received, DueOn: calendar.Date{Year: 2025, Month: time.July, Day: 1}, CreatedAt: received, UpdatedAt: received}
	}
	if err := db.Gorm.CreateInBatches(rows, 200).Error; err != nil {
		t.Fatal(err)
	}
	from, to := base, base.Add(24*time.Hour)
	seen := map[string]int{}
	var order []string
	got, err := db.RequestLog(context.Background(), modeltest.Staff, from, to, time.UTC, func(r casework.RequestLogRow) error {
		seen[r.Reference]++
		order = append(order, r.Reference)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != n || len(seen) != n {
		t.Fatalf("%d rows, %d distinct, want %d", got, len(seen), n)
	}
	for ref, k := range seen {
		if k != 1 {
			t.Errorf("%s given %d times", ref, k)
		}
	}
	if !slices.IsSorted(order) {
		t.Error("rows are not in order of receipt")
	}

	stop := errors.New("client went away")
	calls := 0
	got, err = db.RequestLog(context.Background(), modeltest.Staff, from, to, time.UTC, func(casework.RequestLogRow) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 || got != 0 {
		t.Errorf("after the writer failed: %d calls, %d rows, %v", calls, got, err)
	}
}

func TestRequestLogKeepsSpreadsheetsFromRunningDenialReasons(t *testing.T) {
	t.Parallel()
	r := casework.RequestLogRow{Reference: "PR-2025-000001", Outcome: requests.OutcomeDenied, DenialReason: "=HYPERLINK(\"http://x\")"}
	if got := r.Record()[7]; got != "'=HYPERLINK(\"http://x\")" {
		t.Errorf("denial reason cell %q", got)
	}
}

func TestRequestLogAndMetricsOnlyCountWhatTheActorMaySee(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := mustCustomer(t, db, "acme")
	newRequest(t, db, requests.RequestInput{Type: "access", Regime: "gdpr", CustomerID: acme.ID, ReceivedAt: at(t, "2025-04-01T18:00:00Z"),
		Requester: requests.Requester{Email: "a@example.com"}})
	newRequest(t, db, requests.RequestInput{Type: "access", Regime: "gdpr", ReceivedAt: at(t, "2025-04-01T18:00:00Z"),
		Requester: requests.Requester{Email: "b@example.com"}})
	from, to := casework.DayRange(calendar.Date{Year: 2025, Month: 1, Day: 1}, calendar.Date{Year: 2025, Month: 12, Day: 31}, time.UTC)
	tests := []struct {
		name  string
		actor store.Actor
		want  int64
	}{
		{"staff see every request", modeltest.Staff, 2},
		{"a customer sees its own", customerActor(t, db, acme), 1},
		{"another customer sees none", customerActor(t, db, mustCustomer(t, db, "other")), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := db.CountRequestLog(context.Background(), tt.actor, from, to)
			m, merr := db.Metrics(context.Background(), tt.actor, 2025, time.UTC, "")
			if err != nil || merr != nil || n != tt.want || int64(m.Total.Received) != tt.want {
				t.Errorf("log %d, metrics %d (%v %v), want %d", n, m.Total.Received, err, merr, tt.want)
			}
		})
	}
}

func TestDeadlineBoardGroupsOpenRequestsByEffectiveDueDate(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	today := calendar.Date{Year: 2026, Month: time.March, Day: 11} // a Wednesday; the week ends Saturday 14th
	cases := []struct {
		name, due, extendedTo, column string
	}{
		{"yesterday", "2026-03-10", "", casework.BoardOverdue},
		{"today", "2026-03-11", "", casework.BoardThisWeek},
		{"saturday", "2026-03-14", "", casework.BoardThisWeek},
		{"sunday", "2026-03-15", "", casework.BoardNextWeek},
		{"extended past due", "2026-03-10", "2026-03-20", casework.BoardNextWeek},
		{"next saturday", "2026-03-21", "", casework.BoardNextWeek},
		{"later", "2026-03-22", "", casework.BoardLater},
	}
	ids := map[string]string{}
	for _, c := range cases {
		r := newRequest(t, db, requests.RequestInput{Type: "know", Regime: "ccpa", ReceivedAt: at(t, "2026-02-02T18:00:00Z"),
			Requester: requests.Requester{Name: c.name, Email: "p@example.com"}})
		exec(t, db, "UPDATE privacy_requests SET due_on = ? WHERE id = ?", c.due, r.ID)
		if c.extendedTo != "" {
			exec(t, db, "UPDATE privacy_requests SET extended_to = ? WHERE id = ?", c.extendedTo, r.ID)
		}
		ids[r.ID] = c.name
	}
	closed := newRequest(t, db, requests.RequestInput{Type: "know", Regime: "ccpa", Requester: requests.Requester{Email: "c@example.com"}})
	if _, err := db.SetStatus(ctx, modeltest.Staff, closed.ID, requests.StatusWithdrawn, ""); err != nil {
		t.Fatal(err)
	}

	b, err := db.DeadlineBoard(ctx, modeltest.Staff, today, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, col := range b.Columns {
		for _, c := range col.Cards {
			got[ids[c.Request.ID]] = col.Key
			if c.Request.ID == closed.ID {
				t.Error("a closed request is on the board")
			}
		}
	}
	for _, c := range cases {
		if got[c.name] != c.column {
			t.Errorf("%s (due %s, extended to %q) is in %q, want %q", c.name, c.due, c.extendedTo, got[c.name], c.column)
		}
	}
	if keys := []string{b.Columns[0].Key, b.Columns[1].Key, b.Columns[2].Key, b.Columns[3].Key}; !slices.Equal(keys,
		[]string{casework.BoardOverdue, casework.BoardThisWeek, casework.BoardNextWeek, casework.BoardLater}) {
		t.Errorf("columns %v", keys)
	}
	if b.Columns[1].Until != "2026-03-14" || b.Columns[2].Until != "2026-03-21" {
		t.Errorf("this week to %s, next week to %s", b.Columns[1].Until, b.Columns[2].Until)
	}
}

func TestDeadlineBoardFlagsAcknowledgementsAndControllers(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	today := calendar.Date{Year: 2026, Month: time.March, Day: 11}
	received := at(t, "2026-03-02T18:00:00Z") // CCPA know: acknowledge by 2026-03-16
	unacked := newRequest(t, db, requests.RequestInput{Type: "know", Regime: "ccpa", ReceivedAt: received, Requester: requests.Requester{Email: "a@example.com"}})
	late := newRequest(t, db, requests.RequestInput{Type: "know", Regime: "ccpa", ReceivedAt: received, Requester: requests.Requester{Email: "b@example.com"}})
	exec(t, db, "UPDATE privacy_requests SET ack_due_on = ? WHERE id = ?", "2026-03-10", late.ID)
	verified := newRequest(t, db, requests.RequestInput{Type: "know", Regime: "ccpa", ReceivedAt: received, Requester: requests.Requester{Email: "c@example.com"}})
	if _, err := db.VerifyManually(ctx, modeltest.Staff, verified.ID, "email_reply", "replied"); err != nil {
		t.Fatal(err)
	}
	gdpr := newRequest(t, db, requests.RequestInput{Type: "access", Regime: "gdpr", ReceivedAt: received, Requester: requests.Requester{Email: "d@example.com"}})
	sent := newRequest(t, db, requests.RequestInput{Type: "know", Regime: "ccpa", ReceivedAt: received, Requester: requests.Requester{Email: "e@example.com"}})
	byHand := newRequest(t, db, requests.RequestInput{Type: "know", Regime: "ccpa", ReceivedAt: received, Requester: requests.Requester{Email: "f@example.com"}})
	claimed, err := db.ClaimOutbox(ctx, time.Now(), time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	for i := range claimed {
		if m := &claimed[i]; *m.RequestID == sent.ID {
			if err := db.MarkMailSent(ctx, m, "ack@sendara.test", time.Now()); err != nil {
				t.Fatal(err)
			}
		} else if *m.RequestID == byHand.ID {
			if err := db.MarkMailFailed(ctx, m, "550 mailbox unavailable"); err != nil {
				t.Fatal(err)
			}
			if err := db.MarkMailSentByHand(ctx, modeltest.Staff, m.ID, "sent from the shared mailbox"); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, task := range []requests.RoutedTask{
		{CustomerID: acme.ID, ID: uuid.Must(uuid.NewV7()).String(), RequestID: verified.ID, Status: requests.TaskPending, DueOn: calendar.Date{Year: 2026, Month: time.March, Day: 9}, RoutedAt: received},
		{CustomerID: acme.ID, ID: uuid.Must(uuid.NewV7()).String(), RequestID: verified.ID, Status: requests.TaskPending, DueOn: calendar.Date{Year: 2026, Month: time.March, Day: 12}, RoutedAt: received},
		{CustomerID: acme.ID, ID: uuid.Must(uuid.NewV7()).String(), RequestID: gdpr.ID, Status: requests.TaskApproved, DueOn: calendar.Date{Year: 2026, Month: time.March, Day: 9}, RoutedAt: received},
	} {
		if err := db.Gorm.Create(&task).Error; err != nil {
			t.Fatal(err)
		}
	}
	b, err := db.DeadlineBoard(ctx, modeltest.Staff, today, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	cards := map[string]casework.BoardCard{}
	for _, col := range b.Columns {
		for _, c := range col.Cards {
			cards[c.Request.ID] = c
		}
	}
	tests := []struct {
		name         string
		id           string
		ack          string
		ackOverdue   bool
		pending      int
		tasksDue     string
		tasksOverdue bool
	}{
		{"acknowledgement queued, not sent", unacked.ID, "2026-03-16", false, 0, "", false},
		{"acknowledgement overdue", late.ID, "2026-03-10", true, 0, "", false},
		{"verified but its acknowledgement never sent, two controllers pending", verified.ID, "2026-03-16", false, 2, "2026-03-09", true},
		{"acknowledgement sent", sent.ID, "", false, 0, "", false},
		{"acknowledgement failed, then sent by hand", byHand.ID, "", false, 0, "", false},
		{"no acknowledgement rule, controller answered", gdpr.ID, "", false, 0, "", false},
	}
	for _, tt := range tests {
		c, ok := cards[tt.id]
		if !ok || c.AckDueOn.String() != tt.ack || c.AckOverdue != tt.ackOverdue || c.PendingTasks != tt.pending ||
			c.TasksDueOn.String() != tt.tasksDue || c.TasksOverdue != tt.tasksOverdue {
			t.Errorf("%s: %+v (on board %v)", tt.name, c, ok)
		}
	}
}

// A duplicate merged into another request is no row of the §7101 log of
// its own: the request it joined names it.
func TestTheRequestLogListsOnlyTheSurvivingRequestOfAMerge(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	loc := la(t).Loc
	received := time.Date(2025, 3, 1, 18, 0, 0, 0, time.UTC)
	keep := newRequest(t, db, requests.RequestInput{Type: calendar.TypeKnow, Regime: "ccpa", ReceivedAt: received, Requester: requests.Requester{Email: "person@example.com"}})
	dup1 := newRequest(t, db, requests.RequestInput{Type: calendar.TypeKnow, Regime: "ccpa", ReceivedAt: received.Add(time.Hour), Requester: requests.Requester{Email: "person@example.com"}})
	dup2 := newRequest(t, db, requests.RequestInput{Type: calendar.TypeKnow, Regime: "ccpa", ReceivedAt: received.Add(2 * time.Hour), Requester: requests.Requester{Email: "person@example.com"}})
	other := newRequest(t, db, requests.RequestInput{Type: calendar.TypeKnow, Regime: "ccpa", ReceivedAt: received.Add(3 * time.Hour), Requester: requests.Requester{Email: "else@example.com"}})
	for _, d := range []*requests.PrivacyRequest{dup2, dup1} {
		if err := db.MergeDuplicate(ctx, modeltest.Staff, d.ID, keep.Reference, "sent twice"); err != nil {
			t.Fatal(err)
		}
	}
	from, to := casework.DayRange(calendar.Date{Year: 2025, Month: time.January, Day: 1}, calendar.Date{Year: 2025, Month: time.December, Day: 31}, loc)
	got := map[string][]string{}
	n, err := db.RequestLog(ctx, modeltest.Staff, from, to, loc, func(r casework.RequestLogRow) error {
		got[r.Reference] = r.Record()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	count, _ := db.CountRequestLog(ctx, modeltest.Staff, from, to)
	if n != 2 || count != 2 || len(got) != 2 {
		t.Fatalf("%d rows (%d counted): %q; want the surviving request and the other one", n, count, got)
	}
	if _, listed := got[dup1.Reference]; listed {
		t.Errorf("the merged duplicate %s is a row of the log", dup1.Reference)
	}
	if row := got[keep.Reference]; row[len(row)-1] != dup1.Reference+" "+dup2.Reference {
		t.Errorf("the surviving request's merged references: %q", row[len(row)-1])
	}
	if row := got[other.Reference]; row[len(row)-1] != "" {
		t.Errorf("an unmerged request names merges: %q", row)
	}
}
