package handlers_test

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	accounts "github.com/sendara/console/models/accounts"
	casework "github.com/sendara/console/models/casework"
)

func TestEvidenceReportsPagesAndCSV(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	auditor := app.user(accounts.RoleAuditor, nil, "auditor@sendara.test")
	customerAdmin := app.user(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	cs := evidenceSeedCase(t, app, acme, "officer@sendara.test")

	cl := app.client()
	cl.login(auditor)
	if p := cl.get("/reports"); p.Status != http.StatusOK || p.Doc.Find(`a[href="/reports/audit"]`).Length() == 0 {
		t.Fatalf("/reports: %d, no link to the auditor reports", p.Status)
	}
	idx := cl.get("/reports/audit")
	if idx.Status != http.StatusOK || idx.Doc.Find(`[data-testid="evidence-reports"] li`).Length() != len(casework.EvidenceReports) {
		t.Fatalf("/reports/audit: %d\n%s", idx.Status, idx.Body)
	}
	for _, r := range casework.EvidenceReports {
		p := cl.get("/reports/audit/" + r.Name)
		if p.Status != http.StatusOK || p.text("h1") != r.Title {
			t.Errorf("%s: status %d, title %q", r.Name, p.Status, p.text("h1"))
		}
		d := cl.get("/reports/audit/" + r.Name + "/csv")
		if d.Status != http.StatusOK || !strings.HasPrefix(d.Header.Get("Content-Type"), "text/csv") {
			t.Errorf("%s csv: status %d, type %q", r.Name, d.Status, d.Header.Get("Content-Type"))
		}
		if _, err := csv.NewReader(strings.NewReader(d.Body)).ReadAll(); err != nil {
			t.Errorf("%s csv: %v", r.Name, err)
		}
	}
	if n := len(app.auditEvents("report.view")); n != len(casework.EvidenceReports) {
		t.Errorf("%d report.view events, want %d", n, len(casework.EvidenceReports))
	}

	// The exports report lists the bundle made for the case and the
	// report downloads just made, with who made them.
	p := cl.get("/reports/audit/exports")
	var rows []string
	p.Doc.Find(`[data-testid="report-table"] tbody tr`).Each(func(_ int, s *goquery.Selection) { rows = append(rows, s.Text()) })
	text := strings.Join(rows, "\n")
	if !strings.Contains(text, "request.export") || !strings.Contains(text, cs.r.Reference) || !strings.Contains(text, "officer@sendara.test") ||
		!strings.Contains(text, "report.export") || !strings.Contains(text, "auditor@sendara.test") {
		t.Errorf("exports report:\n%s", text)
	}
	// The on-time report names the request and the access review the users.
	if p := cl.get("/reports/audit/on-time"); !strings.Contains(p.text(`[data-testid="report-table"]`), cs.r.Reference) {
		t.Errorf("on-time report lacks %s", cs.r.Reference)
	}
	if p := cl.get("/reports/audit/access-review"); !strings.Contains(p.text(`[data-testid="report-table"]`), "auditor@sendara.test") {
		t.Error("access review lacks the auditor")
	}
	// Bad input names the field.
	if p := cl.get("/reports/audit/exports?from=yesterday"); p.Status != http.StatusBadRequest && p.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(p.Body, "from") {
		t.Errorf("bad from: %d", p.Status)
	}
	if p := cl.get("/reports/audit/no-such-report"); p.Status != http.StatusNotFound {
		t.Errorf("unknown report: %d", p.Status)
	}

	cust := app.client()
	cust.login(customerAdmin)
	for _, path := range []string{"/reports/audit", "/reports/audit/exports", "/reports/audit/exports/csv"} {
		if p := cust.get(path); p.Status == http.StatusOK {
			t.Errorf("customer admin GET %s: 200", path)
		}
	}
}
