package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	store "github.com/sendara/console/models/store"
)

func TestPurposeOfAccessIsAskedOfStaffAndRecorded(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	officer := app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test")
	auditor := app.user(accounts.RoleAuditor, nil, "auditor@sendara.test")
	agent := app.user(accounts.RoleCustomerAgent, acme, "agent@acme.test")
	jane := app.contact(t, acme, "Jane Doe", "+14155550123")
	john := app.contact(t, acme, "John Roe", "+14155550124")
	r := app.verifiedRequest(t, calendar.TypeAccess, "+14155550123")

	staff := app.client()
	staff.login(officer)
	views := func() []store.AuditEvent { return app.auditEvents("contact.view") }

	// Without a purpose: the form, nothing of the contact, no view.
	p := staff.get("/contacts/" + jane.ID + "?purpose=" + url.QueryEscape(r.Reference))
	if p.Status != http.StatusOK || p.Doc.Find(`[data-testid="purpose-form"]`).Length() != 1 {
		t.Fatalf("first visit: status %d, no purpose form", p.Status)
	}
	if strings.Contains(p.Body, "Jane Doe") || strings.Contains(p.Body, "+14155550123") {
		t.Error("the purpose form shows the contact")
	}
	if v, _ := p.Doc.Find(`input[name="purpose"]`).Attr("value"); v != r.Reference {
		t.Errorf("a link's purpose prefills the form: %q", v)
	}
	if n := len(views()); n != 0 {
		t.Fatalf("%d contact.view events before any purpose (a link alone must not state one)", n)
	}

	// Bad purposes are refused, naming the field.
	for _, bad := range []string{"", "curious", "PR-2099-000001", strings.Repeat("x", 201)} {
		res := staff.post("/contacts/"+jane.ID+"/purpose", url.Values{"purpose": {bad}})
		if res.Status != http.StatusUnprocessableEntity || res.text("#err-purpose") == "" {
			t.Errorf("purpose %q: status %d, message %q", bad, res.Status, res.text("#err-purpose"))
		}
	}
	if n := len(views()); n != 0 {
		t.Fatalf("%d contact.view events after refused purposes", n)
	}

	// A request reference opens the contact, and the view carries it.
	if res := staff.post("/contacts/"+jane.ID+"/purpose", url.Values{"purpose": {strings.ToLower(r.Reference)}}); res.Status != http.StatusSeeOther ||
		res.Location() != "/contacts/"+jane.ID {
		t.Fatalf("state purpose: %d to %q", res.Status, res.Location())
	}
	if p := staff.get("/contacts/" + jane.ID); p.Status != http.StatusOK || !strings.Contains(p.Body, "+14155550123") {
		t.Fatalf("contact after the purpose: %d", p.Status)
	}
	staff.get("/contacts/" + jane.ID) // remembered: not asked again
	vs := views()
	if len(vs) != 2 {
		t.Fatalf("%d views, want 2", len(vs))
	}
	var d map[string]string
	if err := json.Unmarshal([]byte(vs[0].Details), &d); err != nil || d["purpose"] != r.Reference || d["reference"] != r.Reference ||
		vs[0].ActorLabel != "officer@sendara.test" || vs[0].ObjectID != jane.ID {
		t.Errorf("view entry: %+v (%v)", vs[0], err)
	}

	// Another contact needs its own purpose; a reason in words will do.
	if p := staff.get("/contacts/" + john.ID); p.Doc.Find(`[data-testid="purpose-form"]`).Length() != 1 {
		t.Error("another contact opened on jane's purpose")
	}
	staff.post("/contacts/"+john.ID+"/purpose", url.Values{"purpose": {"checking an opt-out ACME reported missing"}})
	staff.get("/contacts/" + john.ID)
	if vs := views(); len(vs) != 3 || !strings.Contains(vs[0].Details, "checking an opt-out ACME reported missing") {
		t.Errorf("john's view: %+v", vs)
	}

	// Another session (a staff admin's) is asked again.
	again := app.client()
	again.login(app.user(accounts.RoleStaffAdmin, nil, "admin@sendara.test"))
	if p := again.get("/contacts/" + jane.ID); p.Doc.Find(`[data-testid="purpose-form"]`).Length() != 1 {
		t.Error("a new session was not asked")
	}
	// A form posted back with a mistake does not show the contact either.
	if p := again.post("/contacts/"+jane.ID, url.Values{"identifiers": {"not a phone"}}); strings.Contains(p.Body, "+14155550123") ||
		p.Doc.Find(`[data-testid="purpose-form"]`).Length() != 1 {
		t.Errorf("a refused edit showed the contact without a purpose: %d", p.Status)
	}

	// The audit list shows the purpose.
	aud := app.client()
	aud.login(auditor)
	list := aud.get("/audit?action=contact.view&object=" + jane.ID)
	if got := list.text(`[data-testid="audit-purpose"]`); got != "Purpose: "+r.Reference {
		t.Errorf("audit list purpose %q", got)
	}

	// Customer users are not asked.
	cust := app.client()
	cust.login(agent)
	if p := cust.get("/contacts/" + jane.ID); p.Status != http.StatusOK || !strings.Contains(p.Body, "+14155550123") {
		t.Errorf("customer agent: %d", p.Status)
	}
	if vs := views(); len(vs) != 4 || vs[0].ActorLabel != "agent@acme.test" || strings.Contains(vs[0].Details, "purpose") {
		t.Errorf("agent's view: %+v", vs[0])
	}
}
