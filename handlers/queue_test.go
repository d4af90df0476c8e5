package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	casework "github.com/sendara/console/models/casework"

	outbox "github.com/sendara/console/models/outbox"

	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/sendara/console/models/modeltest"
	requests "github.com/sendara/console/models/requests"
)

// queueSeedRequests records three requests: an access request by Jane
// (GDPR), a CCPA deletion by a phone-only requester whose name a
// spreadsheet would run as a formula, and a withdrawn erasure.
func queueSeedRequests(t *testing.T, app *testApp) (access, del, withdrawn *requests.PrivacyRequest) {
	t.Helper()
	ctx := context.Background()
	mk := func(in requests.RequestInput) *requests.PrivacyRequest {
		in.Channel = "api"
		r, err := app.db.CreateRequest(ctx, modeltest.Staff, calendar.DefaultBusiness(), in, "US")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	access = mk(requests.RequestInput{Type: calendar.TypeAccess, Regime: calendar.RegimeGDPR, Requester: requests.Requester{Name: "Jane Doe", Email: "jane@example.com"}})
	del = mk(requests.RequestInput{Type: calendar.TypeDelete, Regime: calendar.RegimeCCPA, Requester: requests.Requester{Name: "=HYPERLINK(\"x\")", Phone: "+14155550123"}})
	withdrawn = mk(requests.RequestInput{Type: calendar.TypeErasure, Regime: calendar.RegimeGDPR, Requester: requests.Requester{Name: "Carl Old", Email: "carl@example.com"}})
	if _, err := app.db.SetStatus(ctx, modeltest.Staff, withdrawn.ID, requests.StatusWithdrawn, ""); err != nil {
		t.Fatal(err)
	}
	return access, del, withdrawn
}

func queueListed(p *page) []string {
	var refs []string
	p.Doc.Find(`[data-testid="requests"] tbody tr td a`).Each(func(_ int, s *goquery.Selection) {
		refs = append(refs, strings.TrimSpace(s.Text()))
	})
	return refs
}

func TestQueueFiltersAndSearchThroughTheList(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	officer := app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test")
	access, del, withdrawn := queueSeedRequests(t, app)
	c := app.client()
	c.login(officer)
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{access.Reference, del.Reference}},
		{"?type=delete", []string{del.Reference}},
		{"?regime=gdpr&status=all&sort=reference", []string{access.Reference, withdrawn.Reference}},
		{"?status=closed", []string{withdrawn.Reference}},
		{"?q=carl", []string{withdrawn.Reference}},
		{"?q=" + url.QueryEscape("(415) 555-0123"), []string{del.Reference}},
		{"?assignee=none&due_before=" + access.DueOn.String(), []string{access.Reference}},
	}
	for _, tt := range tests {
		p := c.get("/requests" + tt.query)
		if p.Status != http.StatusOK {
			t.Fatalf("GET /requests%s: %d", tt.query, p.Status)
		}
		if got := queueListed(p); strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("GET /requests%s lists %v, want %v", tt.query, got, tt.want)
		}
	}
	table := c.get("/requests?status=all").text(`[data-testid="requests"] tbody`)
	if !strings.Contains(table, "CCPA") || strings.Contains(table, "ccpa") || !strings.Contains(table, "opt-out") && !strings.Contains(table, "delete") {
		t.Errorf("regimes and types are shown in words: %q", table)
	}
	if p := c.get("/requests?due_before=tomorrow"); p.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(p.text(`[data-testid="queue-errors"]`), "due_before") {
		t.Errorf("a bad date: %d %q", p.Status, p.text(`[data-testid="queue-errors"]`))
	}
}

func TestQueueCSVExportIsAuditedAndSpreadsheetSafe(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	officer := app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test")
	auditor := app.user(accounts.RoleAuditor, nil, "auditor@sendara.test")
	access, del, _ := queueSeedRequests(t, app)
	c := app.client()
	c.login(officer)
	p := c.get("/requests/export.csv?regime=ccpa")
	if p.Status != http.StatusOK || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export: %d %s", p.Status, p.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(p.Body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || strings.Join(rows[0], ",") != strings.Join(casework.RequestCSVColumns, ",") {
		t.Fatalf("rows: %q", rows)
	}
	row := map[string]string{}
	for i, h := range rows[0] {
		row[h] = rows[1][i]
	}
	if row["reference"] != del.Reference || row["requester_phone"] != "tel:+14155550123" || row["requester_name"] != `'=HYPERLINK("x")` {
		t.Errorf("row: %v", row)
	}
	if strings.Contains(p.Body, access.Reference) {
		t.Error("the export ignores the filter")
	}
	evs := app.auditEvents("request.list_export")
	if len(evs) != 1 || details(t, evs[0])["rows"] != float64(1) {
		t.Errorf("audit: %+v", evs)
	}
	a := app.client()
	a.login(auditor)
	if p := a.get("/requests/export.csv"); p.Status != http.StatusForbidden {
		t.Errorf("an auditor exported the list: %d", p.Status)
	}
}

func TestQueueBulkAssignmentAndNotifications(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	officer := app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test")
	colleague := app.user(accounts.RolePrivacyOfficer, nil, "colleague@sendara.test")
	auditor := app.user(accounts.RoleAuditor, nil, "auditor@sendara.test")
	access, del, _ := queueSeedRequests(t, app)
	c := app.client()
	c.login(officer)
	c.get("/requests")
	form := url.Values{"ids": {access.ID, del.ID}, "assignee": {auditor.User.ID}}
	if p := c.post("/requests/assign", form); p.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(p.text(`[data-testid="queue-errors"]`), "auditors") {
		t.Fatalf("assigning to an auditor: %d %q", p.Status, p.text(`[data-testid="queue-errors"]`))
	}
	if got := queueListed(c.get("/requests?assignee=none")); len(got) != 2 {
		t.Fatalf("a refused assignment changed requests: unassigned %v", got)
	}
	form.Set("assignee", colleague.User.ID)
	if p := c.post("/requests/assign", form); p.Status != http.StatusSeeOther {
		t.Fatalf("bulk assign: %d %s", p.Status, p.Body)
	}
	if got := queueListed(c.get("/requests?assignee=" + colleague.User.ID)); len(got) != 2 {
		t.Errorf("assigned to the colleague: %v", got)
	}
	if n := len(app.auditEvents("request.assign")); n != 2 {
		t.Errorf("%d request.assign events, want one per request", n)
	}
	// The colleague is told, on the dashboard and the notifications page.
	cc := app.client()
	cc.login(colleague)
	dash := cc.get("/")
	if text := dash.text(`[data-testid="dashboard-notifications"]`); !strings.Contains(text, "2 unread") || !strings.Contains(text, access.Reference+": assigned to you") {
		t.Errorf("dashboard: %q", text)
	}
	np := cc.get("/notifications")
	if !strings.Contains(np.text(`[data-testid="notifications"]`), del.Reference) {
		t.Errorf("notifications page: %q", np.text(`[data-testid="notifications"]`))
	}
	if p := cc.post("/notifications/read-all", nil); p.Status != http.StatusSeeOther {
		t.Fatalf("read all: %d", p.Status)
	}
	if text := cc.get("/").text(`[data-testid="dashboard-notifications"]`); !strings.Contains(text, "0 unread") {
		t.Errorf("dashboard after reading: %q", text)
	}
	// The digest preference is on the account page.
	cc.get("/account")
	if p := cc.post("/account/notifications", url.Values{"mode": {"digest"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("choose digest: %d", p.Status)
	}
	if v, _ := cc.get("/account").Doc.Find(`[data-testid="notification-mode"] input[checked]`).Attr("value"); v != "digest" {
		t.Errorf("the account page shows mode %q", v)
	}
	if mode, _ := app.db.NotificationMode(context.Background(), colleague.User.Actor("")); mode != requests.NotifyByDigest {
		t.Errorf("mode %q", mode)
	}
}

func TestQueueSavedViewsFromTheList(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	officer := app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test")
	other := app.user(accounts.RoleStaffAdmin, nil, "admin@sendara.test")
	_, del, _ := queueSeedRequests(t, app)
	c := app.client()
	c.login(officer)
	c.get("/requests?type=delete")
	p := c.post("/requests/views", url.Values{"name": {"Deletes"}, "view": {"open"}, "type": {"delete"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("save view: %d %s", p.Status, p.text(`[data-testid="queue-errors"]`))
	}
	list := c.get("/requests")
	link := list.Doc.Find(`[data-testid="saved-views"] a`)
	href, _ := link.Attr("href")
	if strings.TrimSpace(link.Text()) != "Deletes" {
		t.Fatalf("saved views: %q", list.text(`[data-testid="saved-views"]`))
	}
	if got := queueListed(c.get(href)); strings.Join(got, ",") != del.Reference {
		t.Errorf("the saved view %s lists %v", href, got)
	}
	if p := c.post("/requests/views", url.Values{"name": {"Deletes"}}); p.Status != http.StatusConflict && p.Status != http.StatusUnprocessableEntity {
		t.Errorf("a second view of the same name: %d", p.Status)
	}
	o := app.client()
	o.login(other)
	if strings.Contains(o.get("/requests").Body, "Deletes") {
		t.Error("another user sees the officer's view")
	}
	vs, _ := app.db.SavedRequestViews(context.Background(), officer.User.Actor(""))
	if p := o.post("/requests/views/"+vs[0].ID+"/delete", nil); p.Status != http.StatusNotFound {
		t.Errorf("another user deleting the view: %d", p.Status)
	}
	c.get("/requests")
	if p := c.post("/requests/views/"+vs[0].ID+"/delete", nil); p.Status != http.StatusSeeOther {
		t.Fatalf("delete: %d", p.Status)
	}
	if c.get("/requests").Doc.Find(`[data-testid="saved-views"]`).Length() != 0 {
		t.Error("the deleted view is still listed")
	}
}

func TestNotificationOfAControllersAnswerThroughThePages(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	acme := app.customer("acme")
	officer := app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test")
	auditor := app.user(accounts.RoleAuditor, nil, "auditor@sendara.test")
	admin := app.user(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	app.contact(t, acme, "Jane Doe", "+14155550123", "jane@example.com")
	r := app.verifiedRequest(t, calendar.TypeErasure, "+14155550123")
	if _, err := app.db.Route(ctx, modeltest.Staff, calendar.DefaultBusiness(), r.ID, "http://console.test/inbox"); err != nil {
		t.Fatal(err)
	}
	tasks, _ := app.db.Tasks(ctx, modeltest.Staff, r.ID)
	ca := app.client()
	ca.login(admin)
	ca.get("/inbox")
	if p := ca.post("/inbox/"+tasks[0].ID, url.Values{"decision": {"denied"}, "reason": {"we hold a contract with her"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("answer: %d", p.Status)
	}
	oc := app.client()
	oc.login(officer)
	text := oc.get("/notifications").text(`[data-testid="notifications"]`)
	if !strings.Contains(text, r.Reference+": Acme Inc denied the request.") || strings.Contains(text, "jane") {
		t.Errorf("the officer's notifications: %q", text)
	}
	mails, _ := app.db.Outbox(ctx, modeltest.Staff, outbox.OutboxFilter{Limit: 100})
	var toOfficer, toAuditor int
	for _, m := range mails {
		switch m.ToAddr {
		case officer.User.Email:
			toOfficer++
		case auditor.User.Email:
			toAuditor++
		}
	}
	if toOfficer != 1 || toAuditor != 0 {
		t.Errorf("notification mails: %d to the officer, %d to the auditor; want 1 and 0", toOfficer, toAuditor)
	}
	ac := app.client()
	ac.login(auditor)
	if p := ac.get("/notifications"); p.Status != http.StatusForbidden {
		t.Errorf("an auditor's notifications page: %d", p.Status)
	}
}
