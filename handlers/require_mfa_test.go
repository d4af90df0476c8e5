package handlers_test

import (
	"net/http"
	"net/url"
	"testing"

	accounts "github.com/sendara/console/models/accounts"
)

func TestACustomerAdminCanRequireTwoStepSignInForEveryUser(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	admin := app.user(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	agent := app.user(accounts.RoleCustomerAgent, acme, "agent@acme.test")
	other := app.user(accounts.RoleCustomerAgent, app.customer("other"), "agent@other.test")

	c := app.client()
	c.login(admin)
	page := c.get("/users")
	if page.Doc.Find(`[data-testid="require-mfa"] input[name="require_mfa"]`).Length() != 1 {
		t.Fatalf("the users page offers no two-step requirement to the customer admin")
	}
	if p := c.post("/users/require-mfa", url.Values{"require_mfa": {"on"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("requiring two-step sign-in: status %d\n%s", p.Status, p.Body)
	}
	if _, checked := c.get("/users").Doc.Find(`[data-testid="require-mfa"] input[name="require_mfa"]`).Attr("checked"); !checked {
		t.Errorf("the users page does not show the requirement as on")
	}
	events := app.auditEvents("customer.require_mfa")
	if len(events) != 1 || details(t, events[0])["after"] != true {
		t.Errorf("customer.require_mfa audit events: %d, want one with after=true", len(events))
	}

	// The agent, who never opted in, must now set up an authenticator first.
	ac := app.client()
	ac.get("/login")
	if p := ac.post("/login", url.Values{"email": {agent.User.Email}, "password": {agent.Password}}); p.Location() != "/login/totp/enrol" {
		t.Fatalf("the agent's sign-in: status %d to %q, want the enrolment step", p.Status, p.Location())
	}
	if p := ac.get("/contacts"); p.Status != http.StatusSeeOther || p.Location() != "/login/totp/enrol" {
		t.Errorf("a page before enrolling: status %d to %q, want the enrolment step", p.Status, p.Location())
	}
	// Another customer's users are not concerned.
	oc := app.client()
	oc.get("/login")
	if p := oc.post("/login", url.Values{"email": {other.User.Email}, "password": {other.Password}}); p.Location() != "/" {
		t.Errorf("another customer's agent: sign-in to %q, want straight to /", p.Location())
	}
	// Staff have no such setting to change.
	staff := app.user(accounts.RoleStaffAdmin, nil, "admin@sendara.test")
	sc := app.client()
	sc.login(staff)
	if p := sc.post("/users/require-mfa", url.Values{"require_mfa": {"on"}}); p.Status < 400 || p.Status >= 500 {
		t.Errorf("a staff admin posting the customer setting: status %d, want a 4xx", p.Status)
	}
}
