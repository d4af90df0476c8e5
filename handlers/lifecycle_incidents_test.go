package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	customers "github.com/sendara/console/models/customers"

	outbox "github.com/sendara/console/models/outbox"

	registers "github.com/sendara/console/models/registers"

	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sendara/console/mailbox"
	"github.com/sendara/console/models/modeltest"
	requests "github.com/sendara/console/models/requests"
)

// lifecycleIncident registers an incident discovered two hours ago that
// affects customer (12 people).
func lifecycleIncident(t *testing.T, app *testApp, customer *customers.Customer) *registers.Incident {
	t.Helper()
	inc, err := app.db.CreateIncident(context.Background(), modeltest.Staff, registers.IncidentInput{Title: "Misdirected export",
		Description: "A contacts CSV went to the wrong address.", Categories: []string{"identifiers"}, DiscoveredAt: time.Now().Add(-2 * time.Hour),
		Affected: []registers.AffectedInput{{CustomerID: customer.ID, Count: 12}}})
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

func TestStaffRegisterAnIncidentAndSendItsNoticeToTheAffectedCustomer(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme, other := app.customer("acme"), app.customer("other")
	app.user(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	officer := app.client()
	officer.login(app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test"))
	officer.get("/incidents")
	found := time.Now().In(calendar.DefaultBusiness().Loc).Add(-30 * time.Hour).Format("2006-01-02T15:04")
	p := officer.post("/incidents", url.Values{"title": {"Stolen laptop"}, "description": {"An export of contacts was on it."},
		"categories": {"identifiers", "contact_names"}, "discovered_at": {found}, "customer_id": {acme.ID}, "count": {"40"}})
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location(), "/incidents/") {
		t.Fatalf("register: %d %s", p.Status, p.Body)
	}
	path := p.Location()
	page := officer.get(path)
	if got := page.text(`[data-testid="notice-state"]`); !strings.HasPrefix(got, "OVERDUE") {
		t.Errorf("notice 30 hours after discovery with the 24-hour default: %q, want OVERDUE", got)
	}
	if p := officer.post(path+"/notices", url.Values{"customer_id": {acme.ID}}); p.Status != http.StatusSeeOther {
		t.Fatalf("send notice: %d %s", p.Status, p.Body)
	}
	page = officer.get(path)
	if got := page.text(`[data-testid="notice-state"]`); !strings.HasPrefix(got, "told ") {
		t.Errorf("after sending: %q", got)
	}
	if !strings.Contains(page.text(`[data-testid="incident-timeline"]`), "late") {
		t.Errorf("the timeline does not say the notice was late: %s", page.text(`[data-testid="incident-timeline"]`))
	}
	var subjects []string
	app.db.Gorm.Table("outbox").Where("to_addr = ? AND kind = ?", "admin@acme.test", outbox.MailIncidentNotice).Pluck("subject", &subjects)
	if len(subjects) != 1 || !strings.Contains(subjects[0], "Acme Inc") {
		t.Errorf("notices to acme's admin: %q", subjects)
	}
	// A bad form names its field and writes nothing.
	before, _ := app.db.Incidents(context.Background(), modeltest.Staff)
	officer.get("/incidents")
	p = officer.post("/incidents", url.Values{"title": {"x"}, "description": {"y"}, "discovered_at": {"yesterday"}, "categories": {"mail"}})
	if p.Status != http.StatusUnprocessableEntity || p.text(`#err-discovered_at`) == "" {
		t.Errorf("bad discovery time: %d %q", p.Status, p.text(`#err-discovered_at`))
	}
	after, _ := app.db.Incidents(context.Background(), modeltest.Staff)
	if len(after) != len(before) {
		t.Error("a refused incident was stored")
	}
	// The other customer's admin does not see acme's incident, not even that it exists.
	otherAdmin := app.client()
	otherAdmin.login(app.user(accounts.RoleCustomerAdmin, other, "admin@other.test"))
	if p := otherAdmin.get(path); p.Status != http.StatusNotFound {
		t.Errorf("another customer's incident: %d, want 404", p.Status)
	}
	if p := otherAdmin.get("/incidents"); p.Doc.Find(`[data-testid="incidents"] tbody tr`).Length() != 0 {
		t.Error("another customer lists acme's incident")
	}
	if p := otherAdmin.post(path+"/notices", url.Values{"customer_id": {other.ID}}); p.Status != http.StatusForbidden {
		t.Errorf("a customer sending notices: %d, want 403", p.Status)
	}
}

func TestACustomerAdminReportsABreachAndSeesItAsItsOwn(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test")
	admin := app.client()
	admin.login(app.user(accounts.RoleCustomerAdmin, acme, "admin@acme.test"))
	admin.get("/incidents")
	found := time.Now().In(calendar.DefaultBusiness().Loc).Add(-time.Hour).Format("2006-01-02T15:04")
	p := admin.post("/incidents/report", url.Values{"title": {"API key leaked"}, "description": {"Our key was in a public repository."},
		"categories": {"credentials"}, "discovered_at": {found}, "count": {"0"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("report: %d %s", p.Status, p.Body)
	}
	list := admin.get("/incidents")
	row := list.Doc.Find(`[data-testid="incidents"] tbody tr`)
	if row.Length() != 1 || !strings.Contains(row.Text(), "reported by customer") {
		t.Errorf("the customer's list: %q", row.Text())
	}
	var n int64
	app.db.Gorm.Table("outbox").Where("to_addr = ?", "officer@sendara.test").Count(&n)
	if n != 1 {
		t.Errorf("%d mails to the privacy officer, want 1", n)
	}
	agent := app.client()
	agent.login(app.user(accounts.RoleCustomerAgent, acme, "agent@acme.test"))
	if p := agent.get("/incidents"); p.Status != http.StatusOK || p.Doc.Find(`[data-testid="report-form"]`).Length() != 0 {
		t.Errorf("agent: %d, report form shown %v", p.Status, p.Doc.Find(`[data-testid="report-form"]`).Length() != 0)
	}
	if p := agent.post("/incidents/report", url.Values{"title": {"x"}}); p.Status != http.StatusForbidden {
		t.Errorf("agent reporting: %d, want 403", p.Status)
	}
}

func TestOnlyStaffAdminsChangeTheNoticeHours(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	admin, officer := app.client(), app.client()
	admin.login(app.user(accounts.RoleStaffAdmin, nil, "admin@sendara.test"))
	officer.login(app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test"))
	officer.get("/incidents")
	if p := officer.post("/incidents/settings", url.Values{"hours": {"12"}}); p.Status != http.StatusForbidden {
		t.Errorf("officer: %d, want 403", p.Status)
	}
	admin.get("/incidents")
	if p := admin.post("/incidents/settings", url.Values{"hours": {"0"}}); p.Status != http.StatusUnprocessableEntity {
		t.Errorf("0 hours: %d, want 422", p.Status)
	}
	if p := admin.post("/incidents/settings", url.Values{"hours": {"12"}}); p.Status != http.StatusSeeOther {
		t.Errorf("12 hours: %d", p.Status)
	}
	if h, _ := app.db.IncidentNoticeHours(context.Background()); h != 12 {
		t.Errorf("notice hours %d, want 12", h)
	}
}

func TestAnAccountCompromiseMailIsUrgentAndOpensAnIncident(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	if mailbox.AccountCompromise != registers.SuggestedAccountCompromise {
		t.Fatalf("the mailbox suggests %q, the models expect %q", mailbox.AccountCompromise, registers.SuggestedAccountCompromise)
	}
	subject, body := "Our account was hacked", "Someone logged into our account and exported contacts last night."
	r, _, err := app.db.ReceiveMail(ctx, calendar.DefaultBusiness(), "US", requests.MailIntake{MessageID: "hacked@example.com",
		FromAddr: "owner@acme.example", Subject: subject, Body: body, SuggestedType: mailbox.SuggestType(subject, body),
		Raw: []byte("From: owner@acme.example\r\nSubject: " + subject + "\r\n\r\n" + body + "\r\n"), ReceivedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	officer := app.client()
	officer.login(app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test"))
	if list := officer.get("/requests"); !strings.Contains(list.Body, "URGENT: account compromise") {
		t.Error("the request list does not flag the report as urgent")
	}
	if page := officer.get("/requests/" + r.ID); page.Doc.Find(`[data-testid="open-incident"]`).Length() != 1 {
		t.Fatal("no button to open an incident")
	}
	p := officer.post("/requests/"+r.ID+"/incident", nil)
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location(), "/incidents/") {
		t.Fatalf("open incident: %d %s", p.Status, p.Location())
	}
	inc := officer.get(p.Location())
	if got := inc.text(`[data-testid="incident-timeline"]`); !strings.Contains(got, r.Reference) {
		t.Errorf("the incident's timeline does not name the report: %q", got)
	}
	if p := officer.post("/requests/"+r.ID+"/incident", nil); p.Status != http.StatusSeeOther || p.Location() != "/requests/"+r.ID {
		t.Errorf("a second incident from the same report: %d %s", p.Status, p.Location())
	}
	if list, _ := app.db.Incidents(ctx, modeltest.Staff); len(list) != 1 {
		t.Errorf("%d incidents, want 1", len(list))
	}
}
