package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	casework "github.com/sendara/console/models/casework"

	requests "github.com/sendara/console/models/requests"

	"context"
	"encoding/csv"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// reportFixture is an app with one answered CCPA request of 2025 and one
// open one, an auditor and another customer's admin.
type reportFixture struct {
	app      *testApp
	auditor  *client
	customer *client
	answered *requests.PrivacyRequest
	open     *requests.PrivacyRequest
}

func newReportFixture(t *testing.T) *reportFixture {
	t.Helper()
	app := newTestApp(t)
	ctx := context.Background()
	biz := calendar.DefaultBusiness()
	create := func(typ, received, email string) *requests.PrivacyRequest {
		at, _ := time.Parse(time.RFC3339, received)
		r, err := app.db.CreateRequest(ctx, modeltest.Staff, biz, requests.RequestInput{Type: typ, Regime: "ccpa", Channel: "web_form",
			ReceivedAt: at, Requester: requests.Requester{Name: "Jane Roe", Email: email}}, "US")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	f := &reportFixture{app: app}
	f.answered = create("delete", "2025-04-01T18:00:00Z", "jane@example.com")
	if _, err := app.db.SetStatus(ctx, modeltest.Staff, f.answered.ID, requests.StatusDenied, "=could not verify"); err != nil {
		t.Fatal(err)
	}
	// Answered in time, on 2025-04-20 (SetStatus stamps now).
	if err := app.db.Gorm.Exec("UPDATE privacy_requests SET completed_at = ? WHERE id = ?",
		time.Date(2025, 4, 20, 18, 0, 0, 0, time.UTC), f.answered.ID).Error; err != nil {
		t.Fatal(err)
	}
	f.open = create("know", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "john@example.com")

	f.auditor = app.client()
	f.auditor.login(app.user(accounts.RoleAuditor, nil, "auditor@sendara.test"))
	f.customer = app.client()
	f.customer.login(app.user(accounts.RoleCustomerAdmin, app.customer("acme"), "admin@acme.test"))
	return f
}

func TestReportPagesAreForStaffWhoReadReports(t *testing.T) {
	t.Parallel()
	f := newReportFixture(t)
	tests := []struct {
		path string
		sel  string // what the auditor's page must hold
	}{
		{"/reports", `[data-testid=metrics]`},
		{"/reports?year=2025&regime=ccpa", `[data-testid=on-time]`},
		{"/requests/board", `[data-testid=board]`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if p := f.auditor.get(tt.path); p.Status != http.StatusOK || p.Doc.Find(tt.sel).Length() != 1 {
				t.Errorf("auditor: status %d, %s found %d times", p.Status, tt.sel, p.Doc.Find(tt.sel).Length())
			}
			if p := f.customer.get(tt.path); p.Status != http.StatusForbidden {
				t.Errorf("customer admin: status %d, want 403", p.Status)
			}
		})
	}
	if p := f.customer.get("/reports/request-log.csv"); p.Status != http.StatusForbidden || strings.Contains(p.Body, "reference,") {
		t.Errorf("customer admin downloaded the request log: %d", p.Status)
	}
}

func TestReportShowsTheYearsMetrics(t *testing.T) {
	t.Parallel()
	f := newReportFixture(t)
	p := f.auditor.get("/reports?year=2025")
	if p.Status != http.StatusOK {
		t.Fatalf("status %d", p.Status)
	}
	cells := map[string]string{
		`[data-testid=metrics] tr[data-type=delete] [data-col=received]`: "1",
		`[data-testid=metrics] tr[data-type=delete] [data-col=denied]`:   "1",
		`[data-testid=metrics] tr[data-type=total] [data-col=received]`:  "1",
		`[data-testid=metrics] tr[data-type=know] [data-col=received]`:   "0",
		`[data-testid=on-time] tr[data-regime=ccpa] [data-col=answered]`: "1",
		`[data-testid=on-time] tr[data-regime=ccpa] [data-col=rate]`:     "100.0%",
		`select[name=year] option[selected]`:                             "2025",
	}
	for sel, want := range cells {
		if got := p.text(sel); got != want {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
	if p := f.auditor.get("/reports?year=soon"); p.Status != http.StatusBadRequest {
		t.Errorf("a malformed year: status %d, want 400", p.Status)
	}
}

func TestRequestLogDownloadIsCSVAndAudited(t *testing.T) {
	t.Parallel()
	f := newReportFixture(t)
	p := f.auditor.get("/reports/request-log.csv?from=2025-01-01&to=2025-12-31")
	if p.Status != http.StatusOK || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(p.Header.Get("Content-Disposition"), "request-log-2025-01-01-to-2025-12-31.csv") {
		t.Fatalf("status %d, type %q, disposition %q", p.Status, p.Header.Get("Content-Type"), p.Header.Get("Content-Disposition"))
	}
	rows, err := csv.NewReader(strings.NewReader(p.Body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{casework.RequestLogColumns,
		{f.answered.Reference, "2025-04-01", "delete", "ccpa", "web_form", "2025-04-20", "denied", "'=could not verify", ""}}
	if len(rows) != len(want) || !slices.Equal(rows[0], want[0]) || !slices.Equal(rows[1], want[1]) {
		t.Errorf("rows:\n%q\nwant\n%q", rows, want)
	}
	events, err := f.app.db.ListAudit(context.Background(), modeltest.Staff, store.AuditFilter{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, e := range events {
		if e.Action == "report.request_log" {
			d := e.Details
			found = strings.Contains(d, `"from":"2025-01-01"`) && strings.Contains(d, `"to":"2025-12-31"`) && strings.Contains(d, `"rows":1`)
		}
	}
	if !found {
		t.Error("no report.request_log audit event with the range and row count")
	}
}

func TestRequestLogDownloadDefaultsToTheLast24Months(t *testing.T) {
	t.Parallel()
	f := newReportFixture(t)
	now := time.Now()
	create := func(received time.Time) string {
		r, err := f.app.db.CreateRequest(context.Background(), modeltest.Staff, calendar.DefaultBusiness(), requests.RequestInput{Type: "access",
			Regime: "ccpa", Channel: "email", ReceivedAt: received, Requester: requests.Requester{Email: "old@example.com"}}, "US")
		if err != nil {
			t.Fatal(err)
		}
		return r.Reference
	}
	kept, older := create(now.AddDate(0, -23, 0)), create(now.AddDate(0, -25, 0))
	p := f.auditor.get("/reports/request-log.csv")
	rows, err := csv.NewReader(strings.NewReader(p.Body)).ReadAll()
	if p.Status != http.StatusOK || err != nil {
		t.Fatalf("status %d: %v", p.Status, err)
	}
	var refs []string
	for _, r := range rows[1:] {
		refs = append(refs, r[0])
	}
	if !slices.Contains(refs, f.open.Reference) || !slices.Contains(refs, kept) || slices.Contains(refs, older) {
		t.Errorf("the default range gave %v; want %s and %s, not %s", refs, f.open.Reference, kept, older)
	}
}

func TestRequestLogDownloadRefusesABadRange(t *testing.T) {
	t.Parallel()
	f := newReportFixture(t)
	for _, q := range []string{"from=2025-13-01", "to=yesterday", "from=2025-06-01&to=2025-05-01"} {
		if p := f.auditor.get("/reports/request-log.csv?" + q); p.Status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", q, p.Status)
		}
	}
}

func TestBoardRendersAtItsStaticPathNotAsARequestID(t *testing.T) {
	t.Parallel()
	f := newReportFixture(t)
	p := f.auditor.get("/requests/board")
	if p.Status != http.StatusOK || p.text("h1") != "Deadline board" {
		t.Fatalf("status %d, title %q", p.Status, p.text("h1"))
	}
	// Received an hour ago, a CCPA request to know is due in 45 days.
	card := p.Doc.Find(`[data-testid=board-later] [data-testid=board-card]`)
	if card.Length() != 1 || card.AttrOr("data-reference", "") != f.open.Reference {
		t.Errorf("the later column has %d cards, want %s", card.Length(), f.open.Reference)
	}
	// It is acknowledged within 10 business days.
	if got := strings.TrimSpace(card.Find(`[data-testid=card-ack]`).Text()); !strings.HasPrefix(got, "Acknowledge by "+f.open.AckDueOn.String()) {
		t.Errorf("acknowledgement line %q, want the date %s", got, *f.open.AckDueOn)
	}
	if p.Doc.Find(`[data-testid=board-card][data-reference="`+f.answered.Reference+`"]`).Length() != 0 {
		t.Error("a closed request is on the board")
	}
	if !slices.Contains(f.app.auditActions(), "request.list") {
		t.Error("viewing the board is not audited")
	}
}

// The reports page opens on the current year, draws the metrics and the
// on-time rates as charts, and offers each table as CSV with the same
// figures.
func TestReportChartsAndCSVsShowTheSameFigures(t *testing.T) {
	t.Parallel()
	f := newReportFixture(t)
	p := f.auditor.get("/reports")
	if got, want := p.text(`select[name=year] option[selected]`), time.Now().In(calendar.DefaultBusiness().Loc).Format("2006"); got != want {
		t.Errorf("the period picker opens on %q, want the current year %s", got, want)
	}
	p = f.auditor.get("/reports?year=2025&regime=ccpa")
	for _, id := range []string{"metrics-by-type", "metrics-by-month", "on-time-by-regime"} {
		if p.Doc.Find(`[data-testid="chart-`+id+`"] svg[role=img] > title`).Length() != 1 || p.Doc.Find(`[data-testid="chart-data-`+id+`"]`).Length() != 1 {
			t.Errorf("chart %s lacks its title or data table", id)
		}
	}
	// The delete request: received in April, denied in April, in time.
	if got := p.text(`[data-testid="chart-data-metrics-by-month"] tbody tr:nth-child(4) td:nth-child(2)`); got != "1" {
		t.Errorf("received in April: %q", got)
	}
	if got := p.text(`[data-testid="chart-data-on-time-by-regime"] tbody tr:first-child`); got != "ccpa100%" {
		t.Errorf("on-time chart data: %q", got)
	}
	href, _ := p.Doc.Find(`[data-testid=metrics-csv]`).Attr("href")
	csvPage := f.auditor.get(href)
	rows, err := csv.NewReader(strings.NewReader(csvPage.Body)).ReadAll()
	if err != nil || csvPage.Status != http.StatusOK || len(rows) != 7 {
		t.Fatalf("metrics CSV %s: status %d, %d rows, %v", href, csvPage.Status, len(rows), err)
	}
	if got := strings.Join(rows[2], ","); got != "2025,ccpa,delete,1,0,0,1,0,0,1,19.0,19.0" {
		t.Errorf("delete row: %s", got)
	}
	href, _ = p.Doc.Find(`[data-testid=on-time-csv]`).Attr("href")
	onTime := f.auditor.get(href)
	if rows, err := csv.NewReader(strings.NewReader(onTime.Body)).ReadAll(); err != nil || len(rows) != 3 ||
		strings.Join(rows[1], ",") != "2025,ccpa,1,1,100.0,0" {
		t.Errorf("on-time CSV %s: %v (%v)", href, rows, err)
	}
	if p := f.customer.get("/reports/metrics.csv"); p.Status != http.StatusForbidden {
		t.Errorf("customer admin: metrics CSV status %d", p.Status)
	}
	if p := f.auditor.get("/reports/on-time.csv?year=soon"); p.Status != http.StatusBadRequest {
		t.Errorf("a malformed year: status %d", p.Status)
	}
}
