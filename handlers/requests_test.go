package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sendara/console/models/modeltest"
	requests "github.com/sendara/console/models/requests"
)

func TestRequestAPIFollowsTheContract(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	staff, customerKey := app.apiKey(t, nil), app.apiKey(t, acme)
	body := map[string]any{"type": "access", "regime": "gdpr", "received_at": "2026-05-10T12:00:00-07:00",
		"requester": map[string]any{"name": "Pat", "email": "P@Example.org"}, "subject_identifiers": []string{"p@example.org"}}
	if a := customerKey.post("/api/v1/requests", body); a.Status != 403 {
		t.Errorf("a customer key: %d, want 403", a.Status)
	}
	a := staff.post("/api/v1/requests", body)
	if a.Status != 201 || a.Body["due_on"] != "2026-06-10" || a.Body["ack_due_on"] != nil || a.Body["status"] != "received" ||
		!strings.HasPrefix(a.Body["reference"].(string), "PR-2026-") || a.Body["channel"] != "api" {
		t.Fatalf("create: %d %s", a.Status, a.Raw)
	}
	id := a.Body["id"].(string)
	ccpa := staff.post("/api/v1/requests", map[string]any{"type": "delete", "regime": "ccpa", "received_at": "2026-11-25T10:00:00-08:00",
		"requester": map[string]any{"email": "q@example.org"}, "subject_identifiers": []string{"+1 415 555 0123"}})
	// 45 days from 25 Nov; 10 business days skipping Thanksgiving (26 Nov).
	if ccpa.Body["due_on"] != "2027-01-09" || ccpa.Body["ack_due_on"] != "2026-12-10" {
		t.Errorf("CCPA delete: %s", ccpa.Raw)
	}
	if g := staff.get("/api/v1/requests/" + id); g.Status != 200 || g.Body["reference"] != a.Body["reference"] {
		t.Errorf("get: %d %s", g.Status, g.Raw)
	}
	list := staff.get("/api/v1/requests?email=p%40example.org")
	if rs, _ := list.Body["requests"].([]any); list.Status != 200 || len(rs) != 1 {
		t.Errorf("by email: %s", list.Raw)
	}
	for _, bad := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"regime": "gdpr", "requester": map[string]any{"email": "a@example.org"}}, "type"},
		{map[string]any{"type": "wish", "regime": "gdpr", "requester": map[string]any{"email": "a@example.org"}}, "type"},
		{map[string]any{"type": "access", "regime": "gdpr", "requester": map[string]any{"email": "a@example.org"}, "received_at": "May 10"}, "received_at"},
		{map[string]any{"type": "access", "regime": "gdpr", "requester": map[string]any{}}, "requester.email"},
	} {
		if r := staff.post("/api/v1/requests", bad.body); r.Status/100 != 4 || r.Body["field"] != bad.field {
			t.Errorf("%v: %d %s, want 4xx naming %s", bad.body, r.Status, r.Raw, bad.field)
		}
	}
}

func TestStaffHandleARequestFromEntryToCompletion(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	officer := app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test")
	admin := app.user(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	app.contact(t, acme, "Jane", "+14155550123", "jane@example.com")

	c := app.client()
	c.login(officer)
	c.get("/requests/new")
	bad := c.post("/requests", url.Values{"type": {"erasure"}, "regime": {"gdpr"}, "requester_email": {"not-an-email"}})
	if bad.Status != http.StatusUnprocessableEntity || !strings.Contains(bad.Body, "is not a valid email address") {
		t.Errorf("a bad requester email: %d", bad.Status)
	}
	p := c.post("/requests", url.Values{"type": {"erasure"}, "regime": {"gdpr"}, "requester_name": {"Jane"},
		"requester_email": {"jane@example.com"}, "relationship": {"end_user"}, "details": {"Please delete my data"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("record: %d %s", p.Status, p.Body)
	}
	page := p.Location()
	c.get(page)
	steps := []struct {
		path string
		form url.Values
	}{
		{page + "/verify", url.Values{"method": {"email_reply"}, "note": {"replied from the address on file"}}},
		{page + "/route", nil},
	}
	for _, s := range steps {
		if r := c.post(s.path, s.form); r.Status != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", s.path, r.Status, r.Body)
		}
		c.get(page)
	}
	if got := c.get(page).text(`[data-testid=request-status]`); got != "with the controllers" {
		t.Fatalf("after routing: %s", got)
	}
	// The controller approves in its inbox.
	ac := app.client()
	ac.login(admin)
	inbox := ac.get("/inbox")
	form := inbox.Doc.Find(`[data-testid=answer-form]`)
	action, _ := form.Attr("action")
	if inbox.Status != 200 || action == "" || !strings.Contains(inbox.Body, "jane@example.com") {
		t.Fatalf("inbox: %d %q", inbox.Status, inbox.text(`[data-testid=inbox]`))
	}
	if r := ac.post(action, url.Values{"decision": {"approved"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("approve: %d", r.Status)
	}
	if got := ac.get("/inbox").text(`[data-testid=answered]`); !strings.HasPrefix(got, "approved by admin@acme.test") {
		t.Errorf("answered: %q", got)
	}
	// The controller's contact page shows the request about the person.
	list := ac.get("/contacts?q=jane%40example.com")
	contactHref, _ := list.Doc.Find(`[data-testid=contacts] tbody a`).Attr("href")
	if got := ac.get(contactHref).text(`[data-testid=contact-requests]`); !strings.Contains(got, "erasure") {
		t.Errorf("the contact page lacks the request: %q", got)
	}
	c.get(page)
	if r := c.post(page+"/status", url.Values{"to": {"completed"}, "note": {"erased"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("complete: %d %s", r.Status, r.Body)
	}
	final := c.get(page)
	if final.text(`[data-testid=request-status]`) != "completed" {
		t.Errorf("final status %q", final.text(`[data-testid=request-status]`))
	}
	timeline := final.text(`[data-testid=timeline]`)
	for _, want := range []string{"Received by manual", "Verified by email reply", "Routed to Acme Inc", "Acme Inc approved", "completed"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("timeline lacks %q:\n%s", want, timeline)
		}
	}
	acts := strings.Join(app.auditActions(), " ")
	for _, want := range []string{"request.create", "request.verify", "request.route", "request.controller_answer", "request.status", "request.view"} {
		if !strings.Contains(acts, want) {
			t.Errorf("audit lacks %s", want)
		}
	}
}

func TestRequestPagesRespectRolesAndTenants(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme, other := app.customer("acme"), app.customer("other")
	auditor := app.user(accounts.RoleAuditor, nil, "auditor@sendara.test")
	otherAdmin := app.user(accounts.RoleCustomerAdmin, other, "admin@other.test")
	r, err := app.db.CreateRequest(context.Background(), modeltest.Staff, calendar.DefaultBusiness(), requests.RequestInput{Type: "access",
		Regime: "gdpr", Channel: "api", CustomerID: acme.ID, Requester: requests.Requester{Email: "a@example.com"}}, "US")
	if err != nil {
		t.Fatal(err)
	}
	ac := app.client()
	ac.login(auditor)
	if p := ac.get("/requests/" + r.ID); p.Status != 200 || p.Doc.Find(`[data-testid=request-actions]`).Length() != 0 {
		t.Errorf("an auditor reads the case without actions: %d", p.Status)
	}
	if p := ac.post("/requests/"+r.ID+"/notes", url.Values{"note": {"hi"}}); p.Status != http.StatusForbidden {
		t.Errorf("an auditor wrote a note: %d", p.Status)
	}
	oc := app.client()
	oc.login(otherAdmin)
	if p := oc.get("/requests/" + r.ID); p.Status != http.StatusForbidden {
		t.Errorf("a customer admin opened the staff case page: %d", p.Status)
	}
	if p := oc.get("/inbox"); p.Doc.Find(`[data-testid=inbox-empty]`).Length() != 1 {
		t.Error("another customer's inbox is not empty")
	}
}
