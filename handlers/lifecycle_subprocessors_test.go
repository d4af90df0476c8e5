package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	"net/http"
	"net/url"
	"strings"
	"testing"

	outbox "github.com/sendara/console/models/outbox"
)

func TestANewSubprocessorIsAnnouncedAndACustomerAdminObjectsToIt(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	officer := app.client()
	officer.login(app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test"))
	admin := app.user(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	today := calendar.TodayIn(calendar.DefaultBusiness().Loc)

	officer.get("/subprocessors")
	form := url.Values{"name": {"Mailgun"}, "purpose": {"outbound mail"}, "location": {"United States"},
		"transfer_safeguard": {"EU-US Data Privacy Framework"}, "effective_on": {today.AddDays(10).String()}}
	p := officer.post("/subprocessors", form)
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.text("#err-effective_on"), "30 days to object") {
		t.Fatalf("a start inside the window: %d %q", p.Status, p.text("#err-effective_on"))
	}
	form.Set("effective_on", today.AddDays(30).String())
	if p := officer.post("/subprocessors", form); p.Status != http.StatusSeeOther {
		t.Fatalf("add: %d %s", p.Status, p.Body)
	}
	var n int64
	app.db.Gorm.Table("outbox").Where("to_addr = ? AND kind = ?", "admin@acme.test", outbox.MailProcessorChange).Count(&n)
	if n != 1 {
		t.Errorf("%d announcements to acme's admin, want 1", n)
	}

	customer := app.client()
	customer.login(admin)
	page := customer.get("/subprocessors")
	if got := page.text(`tr[data-name="Mailgun"] [data-testid="sp-state"]`); got != "from "+today.AddDays(30).String() {
		t.Errorf("state %q", got)
	}
	id, _ := page.Doc.Find(`[data-testid="object-form"]`).Attr("action")
	if p := customer.post(id, url.Values{"reason": {"Our patients' data must stay in the EU."}}); p.Status != http.StatusSeeOther {
		t.Fatalf("object: %d %s", p.Status, p.Body)
	}
	if p := customer.get("/subprocessors"); p.Doc.Find(`[data-testid="object-form"]`).Length() != 0 {
		t.Error("the form to object is still offered after objecting")
	}
	staffPage := officer.get("/subprocessors")
	if got := staffPage.text(`[data-testid="objections"] tbody`); !strings.Contains(got, "Acme Inc") || !strings.Contains(got, "stay in the EU") {
		t.Errorf("staff see objections %q", got)
	}
	if p := customer.post("/subprocessors", form); p.Status != http.StatusForbidden {
		t.Errorf("a customer adding a sub-processor: %d, want 403", p.Status)
	}
	if p := officer.post(id, url.Values{"reason": {"x"}}); p.Status != http.StatusForbidden {
		t.Errorf("staff objecting: %d, want 403", p.Status)
	}
	if got := app.auditEvents("subprocessor."); len(got) < 2 {
		t.Errorf("%d sub-processor audit events, want the add and the objection", len(got))
	}
}

func TestACustomerAdminGetsItsOwnArt30RecordAsPagePrintAndCSV(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme, other := app.customer("acme"), app.customer("other")
	admin := app.client()
	admin.login(app.user(accounts.RoleCustomerAdmin, acme, "admin@acme.test"))
	p := admin.get("/processing-records?customer=" + other.ID)
	if p.Status != http.StatusOK || p.text(`[data-testid="controller"]`) != "Acme Inc" {
		t.Fatalf("the admin's record: %d controller %q", p.Status, p.text(`[data-testid="controller"]`))
	}
	print := admin.get("/processing-records?view=print")
	if !strings.Contains(print.Body, "/static/css/records-print.css") || print.Doc.Find("header nav").Length() != 0 {
		t.Error("the print view is not the bare document with its print stylesheet")
	}
	csvPage := admin.get("/processing-records.csv")
	if !strings.HasPrefix(csvPage.Header.Get("Content-Type"), "text/csv") || !strings.Contains(csvPage.Body, "controller,Acme Inc") {
		t.Errorf("CSV: %s", csvPage.Body)
	}
	agent := app.client()
	agent.login(app.user(accounts.RoleCustomerAgent, acme, "agent@acme.test"))
	if p := agent.get("/processing-records"); p.Status != http.StatusForbidden {
		t.Errorf("agent: %d, want 403", p.Status)
	}
	if css := app.client().get("/static/css/records-print.css"); css.Status != http.StatusOK || !strings.Contains(css.Body, "@media print") {
		t.Errorf("print stylesheet: %d", css.Status)
	}
}
