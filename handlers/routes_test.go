package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	customers "github.com/sendara/console/models/customers"

	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pquerna/otp/totp"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// publicRoutes are the only routes a caller without a session or an API
// key may use. Adding a route here is a security decision: every other
// page must send a signed-out browser to the sign-in page, and every other
// API route must refuse a call without a key.
var publicRoutes = map[string]bool{
	"GET /healthz":             true,
	"GET /readyz":              true,
	"GET /static/*":            true,
	"GET /login":               true,
	"POST /login":              true,
	"GET /invite/:token":       true,
	"POST /invite/:token":      true,
	"GET /api/v1/openapi.json": true, // the API's description, no data
	// The public privacy request form and its emailed confirmation link:
	// data subjects never sign in (DESIGN §1).
	"GET /privacy-request":                 true,
	"POST /privacy-request":                true,
	"GET /privacy-request/confirm/:token":  true,
	"POST /privacy-request/confirm/:token": true,
	// An access bundle's expiring link: its random token is the credential.
	"GET /exports/requests/:token": true,
	// "Forgot password": the form, and the mailed single-use link whose
	// random token is the credential.
	"GET /password-reset":         true,
	"POST /password-reset":        true,
	"GET /password-reset/:token":  true,
	"POST /password-reset/:token": true,
	// A requester's status page: the random token mailed to them is the
	// credential (issue 9, point 7).
	"GET /my-request/:token":             true,
	"POST /my-request/:token":            true,
	"POST /my-request/:token/bundle":     true,
	"GET /my-request/:token/files/:file": true,
}

// routeParam matches a path parameter (":id") or a wildcard.
var routeParam = regexp.MustCompile(`:[A-Za-z_]+|\*`)

func TestEveryRouteDeclaresItsAccess(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	signedOut := app.client()
	signedOut.get("/login") // a pre-session CSRF token, so POSTs fail on the session, not the token
	// A browser session is not an API credential.
	signedIn := app.client()
	signedIn.login(app.user(accounts.RoleCustomerAdmin, app.customer("acme"), "admin@acme.test"))

	call := func(t *testing.T, c *client, method, path string) *page {
		t.Helper()
		switch method {
		case http.MethodGet:
			return c.get(path)
		case http.MethodPost:
			return c.post(path, nil)
		}
		t.Fatalf("method %s is neither GET nor POST: add it to this test", method)
		return nil
	}
	routes := app.echo.Routes()
	sort.Slice(routes, func(i, j int) bool {
		return routes[i].Path+routes[i].Method < routes[j].Path+routes[j].Method
	})
	registered := map[string]bool{}
	for _, r := range routes {
		key := r.Method + " " + r.Path
		registered[key] = true
		// A concrete request path: any id will do, the guard runs before
		// the handler looks anything up.
		path := routeParam.ReplaceAllString(r.Path, uuid.NewString())
		t.Run(key, func(t *testing.T) {
			p := call(t, signedOut, r.Method, path)
			sentToLogin := p.Status == http.StatusSeeOther && p.Location() == "/login"
			switch {
			case publicRoutes[key]:
				if sentToLogin || p.Header.Get("WWW-Authenticate") != "" {
					t.Errorf("public route asked a signed-out caller for credentials: status %d", p.Status)
				}
			case strings.HasPrefix(r.Path, "/api/"):
				for who, c := range map[string]*client{"signed out": signedOut, "signed in": signedIn} {
					p := call(t, c, r.Method, path)
					if p.Status != http.StatusUnauthorized || !strings.HasPrefix(p.Header.Get("WWW-Authenticate"), "Bearer") ||
						!strings.Contains(p.Body, `"error"`) {
						t.Errorf("%s, no key: status %d, WWW-Authenticate %q, body %.80q; want 401 JSON asking for a bearer key (or list the route as public)",
							who, p.Status, p.Header.Get("WWW-Authenticate"), p.Body)
					}
				}
			case !sentToLogin:
				t.Errorf("signed out: status %d to %q, want 303 to /login (or list the route as public)", p.Status, p.Header.Get("Location"))
			}
		})
	}
	for key := range publicRoutes {
		if !registered[key] {
			t.Errorf("public list names %s, which is not a registered route", key)
		}
	}
}

// tenantFixture is two customers with an admin and an agent in the first
// and one user and one API key in the second.
type tenantFixture struct {
	A, B               *customers.Customer
	AdminA, AgentA     *account
	UserB              *account
	KeyA, KeyB         *accounts.APIKey
	KeyAName, KeyBName string
}

func newTenantFixture(app *testApp) *tenantFixture {
	app.t.Helper()
	ctx := context.Background()
	f := &tenantFixture{A: app.customer("acme"), B: app.customer("bolt"), KeyAName: "Acme HubSpot", KeyBName: "Bolt Zapier"}
	f.AdminA = app.user(accounts.RoleCustomerAdmin, f.A, "admin@acme.test")
	f.AgentA = app.user(accounts.RoleCustomerAgent, f.A, "agent@acme.test")
	f.UserB = app.user(accounts.RoleCustomerAgent, f.B, "agent@bolt.test")
	var err error
	if f.KeyA, _, err = app.db.CreateAPIKey(ctx, modeltest.Staff, f.A.ID, f.KeyAName); err != nil {
		app.t.Fatal(err)
	}
	if f.KeyB, _, err = app.db.CreateAPIKey(ctx, modeltest.Staff, f.B.ID, f.KeyBName); err != nil {
		app.t.Fatal(err)
	}
	return f
}

func TestEachRoleGetsExactlyThePagesItsRoleGrants(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	a := app.customer("acme")
	accounts := []*account{
		app.user(accounts.RoleStaffAdmin, nil, "admin@sendara.test"),
		app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test"),
		app.user(accounts.RoleAuditor, nil, "auditor@sendara.test"),
		app.user(accounts.RoleCustomerAdmin, a, "admin@acme.test"),
		app.user(accounts.RoleCustomerAgent, a, "agent@acme.test"),
	}
	const ok, no = http.StatusOK, http.StatusForbidden
	// Columns in the order of accounts: staff_admin, privacy_officer,
	// auditor, customer_admin, customer_agent.
	matrix := []struct {
		path string
		want [5]int
	}{
		{"/", [5]int{ok, ok, ok, ok, ok}},
		{"/customers", [5]int{ok, ok, ok, no, no}},
		{"/customers/new", [5]int{ok, no, no, no, no}},
		{"/customers/" + a.ID, [5]int{ok, ok, ok, no, no}},
		{"/users", [5]int{ok, no, ok, ok, no}},
		{"/apikeys", [5]int{ok, no, no, ok, no}},
		{"/audit", [5]int{ok, ok, ok, ok, no}},
		{"/account", [5]int{ok, ok, ok, ok, ok}},
		{"/notifications", [5]int{ok, ok, no, no, no}},
		{"/requests/export.csv", [5]int{ok, ok, no, no, no}},
	}
	for col, acc := range accounts {
		t.Run(string(acc.User.Role()), func(t *testing.T) {
			c := app.client()
			c.login(acc)
			for _, row := range matrix {
				if p := c.get(row.path); p.Status != row.want[col] {
					t.Errorf("GET %s: status %d, want %d", row.path, p.Status, row.want[col])
				}
			}
		})
	}
}

func TestCustomerAdminGetsNotFoundForAnotherTenantsObjects(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	f := newTenantFixture(app)
	c := app.client()
	c.login(f.AdminA)

	cases := []struct {
		name string
		path string
		form url.Values
		want int
	}{
		{"disabling a user of B", "/users/" + f.UserB.User.ID + "/disable", nil, http.StatusNotFound},
		{"changing the role of a user of B", "/users/" + f.UserB.User.ID + "/role", url.Values{"role": {"customer_admin"}}, http.StatusNotFound},
		{"revoking a key of B", "/apikeys/" + f.KeyB.ID + "/revoke", nil, http.StatusNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c.get("/users") // a fresh session-bound token
			if p := c.post(tc.path, tc.form); p.Status != tc.want {
				t.Errorf("POST %s: status %d, want %d", tc.path, p.Status, tc.want)
			}
		})
	}
	t.Run("viewing customer B", func(t *testing.T) {
		if p := c.get("/customers/" + f.B.ID); p.Status != http.StatusForbidden {
			t.Errorf("GET /customers/{B}: status %d, want 403", p.Status)
		}
	})

	ctx := context.Background()
	u, err := app.db.User(ctx, modeltest.Staff, f.UserB.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.Disabled() || u.Role() != accounts.RoleCustomerAgent {
		t.Errorf("B's user changed: disabled=%v role=%s", u.Disabled(), u.Role())
	}
	keys, err := app.db.APIKeys(ctx, modeltest.Staff)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.ID == f.KeyB.ID && k.RevokedAt != nil {
			t.Errorf("B's key was revoked by A's admin")
		}
	}
}

func TestCustomerAdminPagesNeverShowAnotherTenantsData(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	f := newTenantFixture(app)
	c := app.client()
	c.login(f.AdminA)

	cases := []struct {
		path     string
		mustShow []string // A's own data, so an empty page cannot pass
		never    []string
	}{
		{"/users", []string{f.AdminA.User.Email, f.AgentA.User.Email}, []string{f.UserB.User.Email, f.UserB.User.ID}},
		{"/apikeys", []string{f.KeyAName, f.KeyA.Prefix}, []string{f.KeyBName, f.KeyB.Prefix, f.KeyB.ID}},
		{"/audit", []string{f.AgentA.User.Email, f.KeyAName}, []string{f.UserB.User.Email, f.KeyBName, f.KeyB.ID, f.B.ID, f.B.Slug}},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			p := c.get(tc.path)
			if p.Status != http.StatusOK {
				t.Fatalf("GET %s: status %d", tc.path, p.Status)
			}
			for _, s := range tc.mustShow {
				if !strings.Contains(p.Body, s) {
					t.Errorf("page does not show A's own %q", s)
				}
			}
			for _, s := range tc.never {
				if strings.Contains(p.Body, s) {
					t.Errorf("page shows tenant B's %q", s)
				}
			}
		})
	}
}

func TestCustomerAgentMayNotInviteUsersOrCreateKeys(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	a := app.customer("acme")
	agent := app.user(accounts.RoleCustomerAgent, a, "agent@acme.test")
	c := app.client()
	c.login(agent)

	cases := []struct {
		path string
		form url.Values
	}{
		{"/users", url.Values{"email": {"friend@acme.test"}, "role": {"customer_admin"}}},
		{"/apikeys", url.Values{"name": {"sneaky"}}},
	}
	for _, tc := range cases {
		// The refusal must come from the role, not from a stale CSRF token.
		if p := c.post(tc.path, tc.form); p.Status != http.StatusForbidden || p.text(".lead") != "Your role does not allow this." {
			t.Errorf("POST %s: status %d %q, want 403 for the role", tc.path, p.Status, p.text(".lead"))
		}
	}
	us, err := app.db.Users(context.Background(), modeltest.Staff)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := app.db.APIKeys(context.Background(), modeltest.Staff)
	if err != nil {
		t.Fatal(err)
	}
	if len(us) != 1 || len(keys) != 0 {
		t.Errorf("after refused requests: %d users and %d keys, want 1 and 0", len(us), len(keys))
	}
}

func TestCustomerAdminCannotGrantStaffRolesOrActInAnotherTenant(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	f := newTenantFixture(app)
	c := app.client()
	c.login(f.AdminA)
	ctx := context.Background()

	c.get("/users")
	if p := c.post("/users", url.Values{"email": {"boss@acme.test"}, "role": {"staff_admin"}}); p.Status != http.StatusUnprocessableEntity || p.text("#err-role") == "" {
		t.Errorf("inviting a staff admin: status %d, role error %q; want 422 beside the role", p.Status, p.text("#err-role"))
	}
	c.get("/users")
	// Refused by the rule, so neither 403 (guard or CSRF) nor 5xx.
	if p := c.post("/users/"+f.AgentA.User.ID+"/role", url.Values{"role": {"staff_admin"}}); p.Status < 400 || p.Status >= 500 || p.Status == http.StatusForbidden {
		t.Errorf("promoting an agent to staff admin: status %d, want a 4xx refusal of the role", p.Status)
	}
	if u, err := app.db.User(ctx, modeltest.Staff, f.AgentA.User.ID); err != nil || u.Role() != accounts.RoleCustomerAgent || u.Tenant() != f.A.ID {
		t.Errorf("A's agent after the refused promotion: %+v (%v)", u, err)
	}

	// A customer id in the form is ignored: the tenant comes from the session.
	c.get("/users")
	if p := c.post("/users", url.Values{"email": {"planted@bolt.test"}, "role": {"customer_admin"}, "customer_id": {f.B.ID}}); p.Status != http.StatusSeeOther {
		t.Fatalf("inviting with B's id in the form: status %d, want 303", p.Status)
	}
	c.get("/apikeys")
	if p := c.post("/apikeys", url.Values{"name": {"planted key"}, "customer_id": {f.B.ID}}); p.Status != http.StatusOK {
		t.Fatalf("creating a key with B's id in the form: status %d", p.Status)
	}
	us, err := app.db.Users(ctx, modeltest.Staff)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us {
		if u.Email == "boss@acme.test" {
			t.Errorf("a refused staff invitation created a user")
		}
		if u.Email == "planted@bolt.test" && u.Tenant() != f.A.ID {
			t.Errorf("A's admin created a user in tenant %s", u.Tenant())
		}
	}
	keys, err := app.db.APIKeys(ctx, modeltest.Staff)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.Name == "planted key" && k.Tenant() != f.A.ID {
			t.Errorf("A's admin created a key in tenant %s", k.Tenant())
		}
	}
}

// Helpers shared by this package's handler tests.

// responseCookie is the cookie named name that the response sets, or nil.
func responseCookie(p *page, name string) *http.Cookie {
	for _, ck := range (&http.Response{Header: p.Header}).Cookies() {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

// jarCookie is the cookie named name the client would send, or nil.
func (c *client) jarCookie(name string) *http.Cookie {
	u, _ := url.Parse(c.app.srv.URL)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

// send makes a request with exactly the form and headers given: unlike
// post, it adds no CSRF field.
func (c *client) send(method, path string, form url.Values, header http.Header) *page {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.app.srv.URL+path, strings.NewReader(form.Encode()))
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	return c.do(req)
}

// postWith is post with extra request headers (htmx's, for instance).
func (c *client) postWith(path string, form url.Values, header http.Header) *page {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("_csrf") == "" {
		form.Set("_csrf", c.csrf)
	}
	return c.send(http.MethodPost, path, form, header)
}

// getWithCookie loads path with only the given cookie, as a copied or
// stale cookie would be replayed.
func (a *testApp) getWithCookie(path string, ck *http.Cookie) *page {
	a.t.Helper()
	c := a.client()
	req, _ := http.NewRequest(http.MethodGet, a.srv.URL+path, nil)
	req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	return c.do(req)
}

// wrongCode is a six-digit code that is not valid for secret in the
// current, previous or next time step.
func wrongCode(secret string) string {
	valid := map[string]bool{}
	now := time.Now()
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		code, _ := totp.GenerateCode(secret, now.Add(d))
		valid[code] = true
	}
	for n := 123456; ; n = (n + 1) % 1000000 {
		if code := fmt.Sprintf("%06d", n); !valid[code] {
			return code
		}
	}
}

// auditEvents lists the events whose action starts with prefix, newest first.
func (a *testApp) auditEvents(prefix string) []store.AuditEvent {
	a.t.Helper()
	events, err := a.db.ListAudit(context.Background(), modeltest.Staff, store.AuditFilter{Action: prefix, Limit: 500})
	if err != nil {
		a.t.Fatal(err)
	}
	return events
}

// details decodes an audit event's details.
func details(t testing.TB, e store.AuditEvent) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(e.Details), &m); err != nil {
		t.Fatalf("details of %s: %v", e.Action, err)
	}
	return m
}

// figure reads a dashboard figure by its test id.
func figure(t testing.TB, p *page, id string) int64 {
	t.Helper()
	s := p.text(`[data-testid="fig-` + id + `"] .n`)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("figure %s: %q is not a number", id, s)
	}
	return n
}
