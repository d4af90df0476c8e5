package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	accounts "github.com/sendara/console/models/accounts"
	customers "github.com/sendara/console/models/customers"
	"github.com/sendara/console/models/modeltest"
)

// signedIn returns a client signed in as a new user of role (in customer,
// for customer roles).
func (a *testApp) signedIn(role accounts.Role, customer *customers.Customer, email string) (*client, *account) {
	a.t.Helper()
	acc := a.user(role, customer, email)
	c := a.client()
	c.login(acc)
	return c, acc
}

func (a *testApp) customerCount() int {
	a.t.Helper()
	cs, err := a.db.Customers(context.Background(), modeltest.Staff)
	if err != nil {
		a.t.Fatal(err)
	}
	return len(cs)
}

// fieldOf names the form control an error message sits beside: the
// nearest preceding label's input or select.
func fieldOf(msg *goquery.Selection) string {
	return msg.PrevAllFiltered("label").First().Find("input, select").AttrOr("name", "")
}

func TestStaffAdminCreatesACustomerThatTheListShows(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c, _ := app.signedIn(accounts.RoleStaffAdmin, nil, "admin@sendara.test")
	c.get("/customers/new")
	p := c.post("/customers", url.Values{"slug": {"northwind"}, "name": {"Northwind Traders"},
		"contact_email": {"privacy@northwind.test"}, "crm": {"hubspot"}, "dpa_accepted_on": {"2026-03-31"}})
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location(), "/customers/") {
		t.Fatalf("POST /customers: status %d to %q, want 303 to /customers/{id}", p.Status, p.Location())
	}
	id := strings.TrimPrefix(p.Location(), "/customers/")
	cust, err := app.db.Customer(context.Background(), modeltest.Staff, id)
	if err != nil {
		t.Fatalf("the redirect names customer %q, which does not load: %v", id, err)
	}
	if cust.Slug != "northwind" || cust.Name != "Northwind Traders" || cust.CRMType != "hubspot" || cust.DPAAcceptedAt == nil {
		t.Errorf("stored customer: %+v", cust)
	}

	list := c.get("/customers")
	link := list.Doc.Find(`[data-testid="customers"] a[href="/customers/` + id + `"]`)
	if strings.TrimSpace(link.Text()) != "Northwind Traders" {
		t.Errorf("list has no link to the new customer named Northwind Traders")
	}
	if page := c.get(p.Location()); page.Status != http.StatusOK || page.text("h1") != "Northwind Traders" {
		t.Errorf("customer page: status %d, title %q", page.Status, page.text("h1"))
	}
}

func TestCustomerFormRejectsBadInputBesideTheField(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.customer("acme")
	c, _ := app.signedIn(accounts.RoleStaffAdmin, nil, "admin@sendara.test")
	cases := []struct {
		name    string
		form    url.Values
		field   string
		message string
	}{
		{"a slug with capitals, a space and punctuation", url.Values{"slug": {"Bad Slug!"}, "name": {"Bad Co"}}, "slug", "lower-case letters"},
		{"an empty name", url.Values{"slug": {"nameless"}, "name": {""}}, "name", "is required"},
		{"a slug another customer has", url.Values{"slug": {"acme"}, "name": {"Another Acme"}}, "slug", "already exists"},
		{"a DPA date that is not a date", url.Values{"slug": {"dated"}, "name": {"Dated"}, "dpa_accepted_on": {"31/03/2026"}}, "dpa_accepted_on", "must be a date"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := app.customerCount()
			c.get("/customers/new")
			p := c.post("/customers", tc.form)
			if p.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", p.Status)
			}
			msg := p.Doc.Find("#err-" + tc.field)
			if !strings.Contains(msg.Text(), tc.message) {
				t.Errorf("message for %s: %q, want it to mention %q", tc.field, msg.Text(), tc.message)
			}
			if got := fieldOf(msg); got != tc.field {
				t.Errorf("message sits beside field %q, want %q", got, tc.field)
			}
			if got := p.Doc.Find(`input[name="slug"]`).AttrOr("value", ""); got != tc.form.Get("slug") {
				t.Errorf("the form lost the slug typed: %q", got)
			}
			if after := app.customerCount(); after != before {
				t.Errorf("customers: %d before, %d after a refused form", before, after)
			}
		})
	}
}

func TestEditingACustomerRecordsBeforeAndAfter(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	c, _ := app.signedIn(accounts.RoleStaffAdmin, nil, "admin@sendara.test")
	c.get("/customers/" + acme.ID)
	p := c.post("/customers/"+acme.ID, url.Values{"slug": {"acme"}, "name": {"Acme Holdings"}, "crm": {"other"}})
	if p.Status != http.StatusSeeOther || p.Location() != "/customers/"+acme.ID {
		t.Fatalf("POST /customers/{id}: status %d to %q", p.Status, p.Location())
	}
	got, err := app.db.Customer(context.Background(), modeltest.Staff, acme.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Acme Holdings" {
		t.Errorf("name is %q after the edit", got.Name)
	}
	events := app.auditEvents("customer.update")
	if len(events) != 1 || events[0].ObjectID != acme.ID {
		t.Fatalf("customer.update events: %+v", events)
	}
	d := details(t, events[0])
	name, _ := d["name"].(map[string]any)
	if name["before"] != "Acme Inc" || name["after"] != "Acme Holdings" {
		t.Errorf("details %s, want name before \"Acme Inc\" and after \"Acme Holdings\"", events[0].Details)
	}
	if len(d) != 1 {
		t.Errorf("details %s record fields that did not change", events[0].Details)
	}
}

func TestCancellingACustomerLocksItsUsersOut(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	agentC, agent := app.signedIn(accounts.RoleCustomerAgent, acme, "agent@acme.test")
	c, _ := app.signedIn(accounts.RoleStaffAdmin, nil, "admin@sendara.test")
	c.get("/customers/" + acme.ID)
	p := c.post("/customers/"+acme.ID+"/cancel", nil)
	if p.Status != http.StatusSeeOther || p.Location() != "/customers/"+acme.ID {
		t.Fatalf("cancel: status %d to %q", p.Status, p.Location())
	}
	if s := c.get("/customers/" + acme.ID).text(`[data-testid="customer-status"]`); s != customers.CustomerCancelled {
		t.Errorf("status shown: %q, want cancelled", s)
	}
	if !slices.Contains(app.auditActions(), "customer.cancel") {
		t.Errorf("no customer.cancel event")
	}
	if p := agentC.get("/"); p.Status != http.StatusSeeOther || p.Location() != "/login" {
		t.Errorf("agent's open session: GET / status %d to %q, want 303 to /login", p.Status, p.Location())
	}
	fresh := app.client()
	fresh.get("/login")
	if p := fresh.post("/login", url.Values{"email": {agent.User.Email}, "password": {agent.Password}}); p.Status != http.StatusUnauthorized {
		t.Errorf("agent signing in after cancellation: status %d, want 401", p.Status)
	}
}

func TestRoleChangeAppliesOnTheUsersNextRequest(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	agentC, agent := app.signedIn(accounts.RoleCustomerAgent, acme, "agent@acme.test")
	adminC, _ := app.signedIn(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	if p := agentC.get("/apikeys"); p.Status != http.StatusForbidden {
		t.Fatalf("agent GET /apikeys before promotion: status %d, want 403", p.Status)
	}

	adminC.get("/users")
	p := adminC.post("/users/"+agent.User.ID+"/role", url.Values{"role": {"customer_admin"}})
	if p.Status != http.StatusSeeOther || p.Location() != "/users" {
		t.Fatalf("role change: status %d to %q", p.Status, p.Location())
	}
	events := app.auditEvents("role.change")
	if len(events) != 1 || events[0].ObjectID != agent.User.ID {
		t.Fatalf("role.change events: %+v", events)
	}
	if d := details(t, events[0]); d["before"] != "customer_agent" || d["after"] != "customer_admin" {
		t.Errorf("role.change details %s", events[0].Details)
	}
	if p := agentC.get("/apikeys"); p.Status != http.StatusOK {
		t.Errorf("agent GET /apikeys after promotion, same session: status %d, want 200", p.Status)
	}
}

func TestDisablingAUserEndsTheirSession(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	agentC, agent := app.signedIn(accounts.RoleCustomerAgent, acme, "agent@acme.test")
	adminC, _ := app.signedIn(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	adminC.get("/users")
	if p := adminC.post("/users/"+agent.User.ID+"/disable", nil); p.Status != http.StatusSeeOther {
		t.Fatalf("disable: status %d, want 303", p.Status)
	}
	if p := agentC.get("/"); p.Status != http.StatusSeeOther || p.Location() != "/login" {
		t.Errorf("disabled user's GET /: status %d to %q, want 303 to /login", p.Status, p.Location())
	}
	if !slices.Contains(app.auditActions(), "user.disable") {
		t.Errorf("no user.disable event")
	}
}

func TestNewAPIKeySecretIsShownOnceAndNeverListed(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c, _ := app.signedIn(accounts.RoleCustomerAdmin, app.customer("acme"), "admin@acme.test")
	c.get("/apikeys")
	p := c.post("/apikeys", url.Values{"name": {"HubSpot workflow"}})
	if p.Status != http.StatusOK {
		t.Fatalf("POST /apikeys: status %d", p.Status)
	}
	secret := p.Doc.Find(`[data-testid="new-secret"]`).AttrOr("value", "")
	if !strings.HasPrefix(secret, "spc_live_") || len(secret) < len("spc_live_")+20 {
		t.Fatalf("secret %q, want spc_live_ and a long random part", secret)
	}

	list := c.get("/apikeys")
	row := list.Doc.Find(`[data-testid="apikeys"] tbody tr`).FilterFunction(func(_ int, s *goquery.Selection) bool {
		return strings.Contains(s.Text(), "HubSpot workflow")
	})
	if row.Length() != 1 {
		t.Fatalf("%d rows for the new key, want 1", row.Length())
	}
	prefix := secret[:len("spc_live_")+6]
	if !strings.Contains(row.Text(), prefix) {
		t.Errorf("row %q does not show the key's prefix %q", row.Text(), prefix)
	}
	if strings.Contains(list.Body, secret) || strings.Contains(list.Body, secret[len(prefix):]) {
		t.Errorf("the list shows the secret")
	}
}

func TestRevokingAKeyMarksItRevoked(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	key, _, err := app.db.CreateAPIKey(context.Background(), modeltest.Staff, acme.ID, "Old Zapier")
	if err != nil {
		t.Fatal(err)
	}
	c, _ := app.signedIn(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	revoke := `form[action="/apikeys/` + key.ID + `/revoke"]`
	if c.get("/apikeys").Doc.Find(revoke).Length() != 1 {
		t.Fatalf("an active key has no revoke button")
	}
	p := c.post("/apikeys/"+key.ID+"/revoke", nil)
	if p.Status != http.StatusSeeOther || p.Location() != "/apikeys" {
		t.Fatalf("revoke: status %d to %q", p.Status, p.Location())
	}
	keys, err := app.db.APIKeys(context.Background(), modeltest.Staff)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].RevokedAt == nil {
		t.Errorf("stored key not revoked: %+v", keys)
	}
	list := c.get("/apikeys")
	if !strings.Contains(list.text(`[data-testid="apikeys"] tbody tr .status`), "revoked") {
		t.Errorf("list shows status %q, want revoked", list.text(`[data-testid="apikeys"] tbody tr .status`))
	}
	if list.Doc.Find(revoke).Length() != 0 {
		t.Errorf("a revoked key still offers a revoke button")
	}
}

func TestStaffAdminCreatesStaffAndCustomerKeys(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	c, _ := app.signedIn(accounts.RoleStaffAdmin, nil, "admin@sendara.test")
	cases := []struct {
		name, customerID, prefix, tenant string
	}{
		{"a staff key", "staff", "spc_staff_", ""},
		{"a key for a customer", acme.ID, "spc_live_", acme.ID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c.get("/apikeys")
			p := c.post("/apikeys", url.Values{"name": {tc.name}, "customer_id": {tc.customerID}})
			if p.Status != http.StatusOK {
				t.Fatalf("POST /apikeys: status %d", p.Status)
			}
			if secret := p.Doc.Find(`[data-testid="new-secret"]`).AttrOr("value", ""); !strings.HasPrefix(secret, tc.prefix) {
				t.Errorf("secret %q, want prefix %s", secret, tc.prefix)
			}
			keys, err := app.db.APIKeys(context.Background(), modeltest.Staff)
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(keys, func(k accounts.APIKey) bool { return k.Name == tc.name })
			if i < 0 || keys[i].Tenant() != tc.tenant {
				t.Errorf("stored key for %q: found=%v, want tenant %q", tc.name, i >= 0, tc.tenant)
			}
		})
	}
}

func TestChangingPasswordRefusesAWrongCurrentOrAWeakNewOne(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c, _ := app.signedIn(accounts.RoleCustomerAgent, app.customer("acme"), "agent@acme.test")
	cases := []struct {
		name, current, next, field, message string
	}{
		{"wrong current password", "this is not my password", "violet anchor mountain drift 42", "current_password", "not your current password"},
		{"weak new password", testPassword, "password1234", "password", "too common"},
		{"short new password", testPassword, "short", "password", "at least 12"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c.get("/account")
			p := c.post("/account/password", url.Values{"current_password": {tc.current}, "password": {tc.next}})
			if p.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", p.Status)
			}
			if msg := p.text("#err-" + tc.field); !strings.Contains(msg, tc.message) {
				t.Errorf("message beside %s: %q, want it to mention %q", tc.field, msg, tc.message)
			}
		})
	}
}

func TestChangedPasswordReplacesTheOldOne(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c, acc := app.signedIn(accounts.RoleCustomerAgent, app.customer("acme"), "agent@acme.test")
	elsewhere := app.client()
	elsewhere.login(acc)
	next := "violet anchor mountain drift 42"
	c.get("/account")
	p := c.post("/account/password", url.Values{"current_password": {testPassword}, "password": {next}})
	if p.Status != http.StatusSeeOther || p.Location() != "/account" {
		t.Fatalf("change: status %d to %q, want 303 to /account", p.Status, p.Location())
	}
	if p := c.get("/account"); p.Status != http.StatusOK {
		t.Errorf("the session that changed the password ended: status %d", p.Status)
	}
	if p := elsewhere.get("/"); p.Status != http.StatusSeeOther || p.Location() != "/login" {
		t.Errorf("another session of the user: GET / status %d to %q, want 303 to /login", p.Status, p.Location())
	}
	old := app.client()
	old.get("/login")
	if p := old.post("/login", url.Values{"email": {acc.User.Email}, "password": {testPassword}}); p.Status != http.StatusUnauthorized {
		t.Errorf("old password: status %d, want 401", p.Status)
	}
	app.client().login(&account{User: acc.User, Password: next})
}

func TestAuditFilterByActionPrefixShowsOnlyMatchingRows(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.customer("acme")
	app.customer("bolt")
	c, _ := app.signedIn(accounts.RoleAuditor, nil, "auditor@sendara.test")
	actions := func(p *page) []string {
		var out []string
		p.Doc.Find(`[data-testid="audit"] tbody tr td:nth-child(5)`).Each(func(_ int, s *goquery.Selection) {
			out = append(out, strings.TrimSpace(s.Text()))
		})
		return out
	}
	all := actions(c.get("/audit"))
	if !slices.Contains(all, "user.login") || !slices.Contains(all, "customer.create") {
		t.Fatalf("unfiltered log lacks the fixture's events: %v", all)
	}
	p := c.get("/audit?action=customer.")
	got := actions(p)
	if len(got) != len(app.auditEvents("customer.")) {
		t.Errorf("filtered rows %v, want the %d customer.* events", got, len(app.auditEvents("customer.")))
	}
	for _, a := range got {
		if !strings.HasPrefix(a, "customer.") {
			t.Errorf("filter customer. shows %q", a)
		}
	}
	if v := p.Doc.Find(`input[name="action"]`).AttrOr("value", ""); v != "customer." {
		t.Errorf("filter field shows %q, want the filter kept", v)
	}
}

func TestAuditorVerifiesTheChainAsAPageOrAnHTMXFragment(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c, _ := app.signedIn(accounts.RoleAuditor, nil, "auditor@sendara.test")
	cases := []struct {
		name     string
		header   http.Header
		fullPage bool
	}{
		{"as a page", nil, true},
		{"as an htmx fragment", http.Header{"HX-Request": {"true"}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c.get("/audit")
			p := c.postWith("/audit/verify", nil, tc.header)
			if p.Status != http.StatusOK {
				t.Fatalf("status %d", p.Status)
			}
			if r := p.text(`[data-testid="verify-result"]`); !strings.HasPrefix(r, "Chain intact") {
				t.Errorf("result %q, want Chain intact", r)
			}
			if isPage := strings.Contains(p.Body, "<html"); isPage != tc.fullPage {
				t.Errorf("answer is a full page: %v, want %v", isPage, tc.fullPage)
			}
		})
	}
	if n := len(app.auditEvents("audit.verify")); n != len(cases) {
		t.Errorf("%d audit.verify events, want %d", n, len(cases))
	}
}

func TestStaffAdminDashboardFiguresMatchTheDatabase(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	acme, bolt, gone := app.customer("acme"), app.customer("bolt"), app.customer("gone")
	app.user(accounts.RoleCustomerAgent, acme, "agent@acme.test")
	app.user(accounts.RoleCustomerAdmin, bolt, "admin@bolt.test")
	leaver := app.user(accounts.RoleCustomerAgent, bolt, "leaver@bolt.test")
	if err := app.db.SetUserDisabled(ctx, modeltest.Staff, leaver.User.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := app.db.CreateUser(ctx, modeltest.Staff, accounts.UserInput{Email: "new.officer@sendara.test", Role: accounts.RolePrivacyOfficer}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := app.db.CreateAPIKey(ctx, modeltest.Staff, acme.ID, "live"); err != nil {
		t.Fatal(err)
	}
	old, _, err := app.db.CreateAPIKey(ctx, modeltest.Staff, bolt.ID, "old")
	if err != nil {
		t.Fatal(err)
	}
	if err := app.db.RevokeAPIKey(ctx, modeltest.Staff, old.ID); err != nil {
		t.Fatal(err)
	}
	if err := app.db.CancelCustomer(ctx, modeltest.Staff, gone.ID); err != nil {
		t.Fatal(err)
	}
	c, _ := app.signedIn(accounts.RoleStaffAdmin, nil, "admin@sendara.test")
	p := c.get("/")

	want := map[string]int64{
		"customers":           2, // acme, bolt
		"cancelled-customers": 1, // gone
		"users":               4, // staff admin, unenrolled officer, agent@acme, admin@bolt
		"disabled-users":      1, // leaver
		"no-totp":             1, // the officer who has not enrolled
		"keys":                1, // live
		"audit-events":        int64(len(app.auditEvents(""))),
	}
	for id, n := range want {
		if got := figure(t, p, id); got != n {
			t.Errorf("fig-%s = %d, want %d", id, got, n)
		}
	}
}

func TestPasswordSetThroughANewSignInLinkEndsTheUsersSessions(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	agentC, agent := app.signedIn(accounts.RoleCustomerAgent, acme, "agent@acme.test")
	adminC, _ := app.signedIn(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	adminC.get("/users")
	if p := adminC.post("/users/"+agent.User.ID+"/invite", nil); p.Status != http.StatusSeeOther {
		t.Fatalf("new sign-in link: status %d, want 303", p.Status)
	}
	link := accountsMailedLink(t, app, agent.User.Email, "/invite/")
	owner := app.client()
	owner.get(link)
	if p := owner.post(link, url.Values{"password": {"violet anchor mountain drift 42"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("accepting the link: status %d, want 303", p.Status)
	}
	if p := agentC.get("/"); p.Status != http.StatusSeeOther || p.Location() != "/login" {
		t.Errorf("a session from before the password was reset: GET / status %d to %q, want 303 to /login", p.Status, p.Location())
	}
}
