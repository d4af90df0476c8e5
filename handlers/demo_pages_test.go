package handlers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/sendara/console/models"
	casework "github.com/sendara/console/models/casework"
	"github.com/sendara/console/models/modeltest"
)

// demoSignIn signs in a demo account with the password the seed printed,
// enrolling staff in TOTP first as they would at their first sign-in.
func demoSignIn(t *testing.T, app *testApp, login models.DemoLogin) *client {
	t.Helper()
	ctx := context.Background()
	users, err := app.db.Users(ctx, modeltest.Staff)
	if err != nil {
		t.Fatal(err)
	}
	acc := &account{Password: login.Password}
	for i := range users {
		if users[i].Email == login.Email {
			acc.User = &users[i]
		}
	}
	if acc.User == nil {
		t.Fatalf("no demo user %s", login.Email)
	}
	if login.Role.RequiresTOTP() {
		key, err := app.db.BeginTOTP(ctx, acc.User)
		if err != nil {
			t.Fatal(err)
		}
		code, _ := totp.GenerateCode(key.Secret(), time.Now())
		if _, err := app.db.ConfirmTOTP(ctx, acc.User.Actor(""), "demo test", key.Secret(), code); err != nil {
			t.Fatal(err)
		}
		acc.Secret = key.Secret()
	}
	c := app.client()
	c.login(acc)
	return c
}

// TestDemoPagesShowTheSeededData signs in as every demo account after the
// demo seed and opens every main page: none fails, and each role's pages
// show the data the seed made for them.
func TestDemoPagesShowTheSeededData(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	seed, err := app.db.SeedDemo(ctx, app.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	all, err := app.db.ListRequests(ctx, modeltest.Staff, casework.RequestFilter{Status: "all", Today: app.db.Business().Today()})
	if err != nil {
		t.Fatal(err)
	}
	incidents, err := app.db.Incidents(ctx, modeltest.Staff)
	if err != nil {
		t.Fatal(err)
	}
	acme := ""
	customers, _ := app.db.Customers(ctx, modeltest.Staff)
	for _, c := range customers {
		if c.Slug == "acme-realty" {
			acme = c.ID
		}
	}
	pages := []string{"/", "/account", "/customers", "/users", "/apikeys", "/audit", "/contacts", "/replies", "/requests",
		"/requests/board", "/outbox", "/inbox", "/imports", "/notifications", "/reports", "/reports/audit", "/consent-reversals",
		"/communications/sent-after-opt-out", "/communications/sent-after-opt-out?customer=" + acme, "/incidents", "/subprocessors",
		"/processing-records", "/legal-disclosures", "/account-bundles", "/retention"}
	for _, r := range all {
		pages = append(pages, "/requests/"+r.ID, "/requests/"+r.ID+"/case-file")
	}
	for _, inc := range incidents {
		pages = append(pages, "/incidents/"+inc.ID)
	}
	// What each role must be shown (page → text on it).
	want := map[string]map[string]string{
		"admin@sendara.example": {"/customers": "Brightside Dental", "/subprocessors": "Postmark", "/outbox": "new sub-processor",
			"/requests": "URGENT: account compromise"},
		"privacy@sendara.example": {"/notifications": "assigned to you", "/requests": "waiting on the requester", "/incidents": "Delivery report e-mailed",
			"/legal-disclosures": "Superior Court of California", "/communications/sent-after-opt-out?customer=" + acme: "Drew Kim"},
		"auditor@sendara.example": {"/audit": "user.invite", "/reports/audit": "Access review"},
		"admin@acme-realty.example": {"/consent-reversals": "hubspot form 4471", "/communications/sent-after-opt-out": "Drew Kim",
			"/inbox": "PR-", "/imports": "open-house-opt-ins.csv", "/users": "new.agent@acme-realty.example", "/subprocessors": "Hetzner",
			"/incidents": "Delivery report e-mailed", "/replies": "Can I cancel"},
		"agent@acme-realty.example": {"/contacts": "Drew Kim", "/replies": "Can I cancel"},
		"admin@brightside.example":  {"/inbox": "PR-", "/incidents": "Front-desk tablet"},
	}
	// The officer's request pages: the agent's proof awaits its check, a
	// duplicate names the request it was merged into.
	before := len(want["privacy@sendara.example"])
	for _, r := range all {
		switch {
		case r.Relationship == "authorized_agent":
			want["privacy@sendara.example"]["/requests/"+r.ID] = `data-testid="proof-check-form"`
		case strings.HasPrefix(r.Details, "I asked before"):
			want["privacy@sendara.example"]["/requests/"+r.ID] = `data-testid="request-duplicate-of"`
		}
	}
	if len(want["privacy@sendara.example"]) != before+2 {
		t.Fatal("the demo has no agent's request or no merged duplicate")
	}
	want["privacy@sendara.example"]["/consent-reversals"] = "hubspot form 4471"
	for _, login := range seed.Logins {
		c := demoSignIn(t, app, login)
		for _, path := range pages {
			p := c.get(path)
			if p.Status >= 500 || (p.Status != http.StatusOK && p.Status != http.StatusForbidden && p.Status != http.StatusNotFound) {
				t.Errorf("%s GET %s: status %d", login.Email, path, p.Status)
			}
			if text, ok := want[login.Email][path]; ok {
				if p.Status != http.StatusOK || !strings.Contains(p.Body, text) {
					t.Errorf("%s GET %s: status %d, want 200 showing %q", login.Email, path, p.Status, text)
				}
			}
		}
	}
}
