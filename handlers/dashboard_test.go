package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	casework "github.com/sendara/console/models/casework"

	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	consent "github.com/sendara/console/models/consent"
	"github.com/sendara/console/models/modeltest"
)

// Each figure on the dashboard is a link to the list behind it, and that
// list holds as many rows as the figure says.
func TestDashboardFiguresLinkToTheListsBehindThem(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	acme := app.customer("acme")
	r := app.verifiedRequest(t, calendar.TypeAccess, "+14155550123")
	if err := app.db.Gorm.Exec("UPDATE privacy_requests SET due_on = ? WHERE id = ?", "2020-01-01", r.ID).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := app.db.RecordConsent(ctx, modeltest.Staff, acme.ID, consent.ConsentInput{To: "+14155550199", Kind: consent.OptOut, Source: "api"}, "US"); err != nil {
		t.Fatal(err)
	}

	staff, _ := app.signedIn(accounts.RoleStaffAdmin, nil, "admin@sendara.test")
	p := staff.get("/")
	if p.Status != http.StatusOK {
		t.Fatalf("dashboard: %d", p.Status)
	}
	for _, id := range []string{"today-overdue", "today-due-soon", "today-waiting", "today-with-controllers", "today-ack-due", "today-untriaged"} {
		link := p.Doc.Find(`[data-testid="fig-` + id + `"]`)
		href, _ := link.Attr("href")
		n := figure(t, p, id)
		list := staff.get(href)
		if list.Status != http.StatusOK {
			t.Errorf("%s links to %s: status %d", id, href, list.Status)
			continue
		}
		if rows := int64(list.Doc.Find(`[data-testid=requests] tbody tr`).Length()); rows != n {
			t.Errorf("%s says %d, its list %s has %d rows", id, n, href, rows)
		}
	}
	if figure(t, p, "today-overdue") != 1 {
		t.Errorf("overdue = %d, want the one request due in 2020", figure(t, p, "today-overdue"))
	}
	if p.Doc.Find(`[data-testid="chart-on-time-12m"] svg title`).Length() == 0 ||
		p.Doc.Find(`[data-testid="chart-data-on-time-12m"] tbody tr`).Length() != 12 {
		t.Error("the on-time chart with its 12 months of data is missing")
	}
	if got := p.text(`[data-testid=chain-seq]`); got == "" || got == "0" {
		t.Errorf("chain head entry %q", got)
	}
	exports, _ := p.Doc.Find(`[data-testid="fig-month-exports"]`).Attr("href")
	if !strings.HasPrefix(exports, "/audit?action=contact.export%2C") || staff.get(exports).Status != http.StatusOK {
		t.Errorf("exports figure links to %q", exports)
	}

	customer, _ := app.signedIn(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	cp := customer.get("/")
	if cp.Doc.Find(`[data-testid=customer-today]`).Length() != 1 || cp.Doc.Find(`[data-testid=staff-today]`).Length() != 0 {
		t.Error("a customer admin's dashboard shows the wrong section")
	}
	rows := cp.Doc.Find(`[data-testid="chart-data-opt-outs-weekly"] tbody tr`)
	if rows.Length() != casework.OptOutWeeks || strings.TrimSpace(rows.Last().Find("td").Text()) != "1" {
		t.Errorf("opt-outs chart: %d weeks, this week %q", rows.Length(), rows.Last().Find("td").Text())
	}
	if _, err := strconv.Atoi(cp.text(`[data-testid="fig-today-inbox"] .n`)); err != nil {
		t.Errorf("requests to answer: %v", err)
	}
	auditor, _ := app.signedIn(accounts.RoleAuditor, nil, "auditor@sendara.test")
	if ap := auditor.get("/"); ap.Doc.Find(`[data-testid=audit-today]`).Length() != 1 || ap.Doc.Find(`[data-testid=staff-today]`).Length() != 0 {
		t.Error("the auditor's dashboard lacks the audit section or shows the staff's")
	}
}
