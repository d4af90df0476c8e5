package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	requests "github.com/sendara/console/models/requests"

	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	store "github.com/sendara/console/models/store"
)

// evidenceTableRows reads a table of the page as one map per body row,
// keyed by the column headers.
func evidenceTableRows(t *testing.T, b *browser, testid string) []map[string]string {
	t.Helper()
	js := `(() => { const t = document.querySelector('[data-testid=` + testid + `]'); if (!t) return '[]';
		const hs = [...t.querySelectorAll('thead th')].map(h => h.textContent.trim());
		return JSON.stringify([...t.querySelectorAll('tbody tr')].map(r =>
			Object.fromEntries([...r.cells].map((c, i) => [hs[i], c.textContent.replace(/\s+/g, ' ').trim()])))); })()`
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		t.Fatalf("read table %s: %v", testid, err)
	}
	var rows []map[string]string
	if err := json.Unmarshal([]byte(s), &rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

// An auditor answers three usual questions from the pages alone: who
// viewed a contact last week and why, whether a request was answered on
// time and who completed it, and which exports of personal data happened
// this month.
func TestBrowserAuditorAnswersThreeAuditQuestions(t *testing.T) {
	app := newTestApp(t)
	acme := app.customer("acme")
	officer := app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test")
	auditor := app.user(accounts.RoleAuditor, nil, "auditor@sendara.test")
	jane := app.contact(t, acme, "Jane Doe", "+14155550123")
	ctx := context.Background()

	// What happened: the officer opened Jane's contact for a request,
	// made its bundle and completed it, and took its case file.
	r := app.instructedRequest(t, calendar.TypeAccess, "+14155550123")
	officerActor := store.StaffUser(officer.User.ID, officer.User.Email, "192.0.2.10")
	if _, err := app.db.ExportBundle(ctx, officerActor, r.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := app.db.SetStatus(ctx, officerActor, r.ID, requests.StatusCompleted, "sent the bundle"); err != nil {
		t.Fatal(err)
	}
	cl := app.client()
	cl.login(officer)
	cl.get("/contacts/" + jane.ID)
	if p := cl.post("/contacts/"+jane.ID+"/purpose", url.Values{"purpose": {r.Reference}}); p.Status != http.StatusSeeOther {
		t.Fatalf("purpose: %d", p.Status)
	}
	if p := cl.get("/contacts/" + jane.ID); p.Status != http.StatusOK {
		t.Fatalf("contact: %d", p.Status)
	}
	if p := cl.get("/requests/" + r.ID + "/case-file.zip"); p.Status != http.StatusOK {
		t.Fatalf("case file: %d", p.Status)
	}

	b := newBrowser(t, app)
	b.signedIn(auditor, "")

	// 1. Who viewed Jane's contact last week, and why?
	// To the minute: a datetime-local input drops ":00" seconds from its
	// value, and chromedp's SetValue fails when the value read back differs
	// (this test failed once a minute, at :00).
	weekAgo := time.Now().AddDate(0, 0, -7).Format("2006-01-02T15:04")
	b.do(
		chromedp.Navigate(b.base+"/audit"),
		chromedp.WaitVisible(chromedp.CSS(`form.filters`)),
		chromedp.SendKeys(chromedp.CSS(`form.filters input[name=action]`), "contact.view"),
		chromedp.SendKeys(chromedp.CSS(`form.filters input[name=object]`), jane.ID),
		chromedp.SetValue(chromedp.CSS(`form.filters input[name=since]`), weekAgo),
		chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)),
	)
	b.waitFor(`location.search.includes('object=')`)
	b.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid=audit]`)))
	views := evidenceTableRows(t, b, "audit")
	if len(views) != 1 || !strings.HasPrefix(views[0]["Actor"], "officer@sendara.test") ||
		!strings.Contains(views[0]["Details"], "Purpose: "+r.Reference) || views[0]["Action"] != "contact.view" {
		t.Errorf("who viewed Jane and why: %v", views)
	}

	// 2. Was the request answered on time, and who completed it?
	b.do(
		chromedp.Navigate(b.base+"/reports"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=auditor-reports-link] a`)),
		chromedp.Click(chromedp.CSS(`[data-testid=auditor-reports-link] a`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=evidence-reports]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=evidence-reports] a[href^="/reports/audit/on-time"]`)),
	)
	b.waitFor(`location.pathname === '/reports/audit/on-time'`)
	b.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid=report-table]`)))
	var answer map[string]string
	for _, row := range evidenceTableRows(t, b, "report-table") {
		if row["reference"] == r.Reference {
			answer = row
		}
	}
	today := calendar.TodayIn(time.Now().Location())
	if answer == nil || answer["on_time"] != "yes" || answer["completed_by"] != "officer@sendara.test" || answer["status"] != "completed" ||
		answer["answered_on"] == "" || answer["due_on"] < answer["answered_on"] {
		t.Errorf("was %s answered on time, by whom: %v (today %s)", r.Reference, answer, today)
	}

	// 3. Which exports of personal data happened this month?
	now := time.Now()
	monthStart := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	b.do(
		chromedp.Navigate(b.base+"/reports/audit"),
		chromedp.WaitVisible(chromedp.CSS(`form[data-testid=report-range] input[name=from]`)),
		chromedp.SetValue(chromedp.CSS(`form[data-testid=report-range] input[name=from]`), monthStart),
		chromedp.Click(chromedp.CSS(`form[data-testid=report-range] button[type=submit]`)),
	)
	b.waitFor(`location.search.includes('from=` + monthStart + `')`)
	b.do(
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=evidence-reports]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=evidence-reports] a[href^="/reports/audit/exports"]`)),
	)
	b.waitFor(`location.pathname === '/reports/audit/exports'`)
	b.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid=report-table]`)))
	exports := map[string]map[string]string{}
	for _, row := range evidenceTableRows(t, b, "report-table") {
		exports[row["action"]+" "+row["who"]] = row
	}
	if e := exports["request.case_file_export officer@sendara.test"]; e == nil || e["what"] != r.Reference {
		t.Errorf("the officer's case file export is not listed: %v", exports)
	}
	if e := exports["request.export officer@sendara.test"]; e == nil || e["what"] != r.Reference {
		t.Errorf("the access bundle made for %s is not listed: %v", r.Reference, exports)
	}
	if _, ok := exports["contact.view officer@sendara.test"]; ok {
		t.Error("a view is listed as an export")
	}
	b.screenshot("auditor-exports")
	b.noConsoleErrors()
}
