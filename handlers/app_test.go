package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	customers "github.com/sendara/console/models/customers"

	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"
	"github.com/pquerna/otp/totp"
	"github.com/sendara/console/handlers"
	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
	"github.com/sendara/console/rbac"
)

// testApp is the whole console on a fresh database, served on loopback.
type testApp struct {
	t      testing.TB
	db     *models.DB
	authz  *rbac.Authorizer
	echo   *echo.Echo
	srv    *httptest.Server
	server *handlers.Server
}

func newTestApp(t testing.TB) *testApp {
	return newTestAppWith(t, handlers.Config{})
}

func newTestAppWith(t testing.TB, cfg handlers.Config) *testApp {
	t.Helper()
	ctx := context.Background()
	db := modeltest.Open(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	authz, err := rbac.New(ctx, db, log)
	if err != nil {
		t.Fatalf("rbac: %v", err)
	}
	if cfg.Session.Idle == 0 {
		cfg.Session = accounts.SessionPolicy{Idle: 30 * time.Minute, Absolute: 12 * time.Hour}
	}
	cfg.Log = log
	ctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	server, err := handlers.NewServer(ctx, db, authz, cfg)
	if err != nil {
		t.Fatalf("handlers: %v", err)
	}
	srv := httptest.NewServer(server.Handler())
	t.Cleanup(srv.Close)
	return &testApp{t: t, db: db, authz: authz, echo: server.Handler(), srv: srv, server: server}
}

// account is a fixture user with its credentials.
type account struct {
	User     *accounts.User
	Password string
	Secret   string // TOTP secret, when enrolled
}

const testPassword = "a long test passphrase 7"

func (a *testApp) customer(slug string) *customers.Customer {
	a.t.Helper()
	c, err := a.db.CreateCustomer(context.Background(), modeltest.Staff, customers.CustomerInput{Slug: slug, Name: strings.ToUpper(slug[:1]) + slug[1:] + " Inc"})
	if err != nil {
		a.t.Fatalf("customer %s: %v", slug, err)
	}
	return c
}

// user creates a user with role (in customer, for customer roles); staff
// users are enrolled in TOTP so they can sign in fully.
func (a *testApp) user(role accounts.Role, customer *customers.Customer, email string) *account {
	a.t.Helper()
	ctx := context.Background()
	in := accounts.UserInput{Email: email, Role: role, Password: testPassword}
	if customer != nil {
		in.CustomerID = customer.ID
	}
	u, err := a.db.CreateUser(ctx, modeltest.Staff, in)
	if err != nil {
		a.t.Fatalf("user %s: %v", email, err)
	}
	acc := &account{User: u, Password: testPassword}
	if role.RequiresTOTP() {
		key, err := a.db.BeginTOTP(ctx, u)
		if err != nil {
			a.t.Fatal(err)
		}
		code, _ := totp.GenerateCode(key.Secret(), time.Now())
		if _, err := a.db.ConfirmTOTP(ctx, u.Actor(""), "fixture", key.Secret(), code); err != nil {
			a.t.Fatal(err)
		}
		acc.Secret = key.Secret()
	}
	return acc
}

// client is a browser-like HTTP client: a cookie jar, no automatic
// redirects, and the CSRF token of the last page it loaded.
type client struct {
	t    testing.TB
	app  *testApp
	http *http.Client
	csrf string
}

func (a *testApp) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: a.t, app: a, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// page is a response with its parsed HTML.
type page struct {
	Status int
	Header http.Header
	Body   string
	Doc    *goquery.Document
}

// Location is the redirect target's path.
func (p *page) Location() string {
	u, _ := url.Parse(p.Header.Get("Location"))
	if u == nil {
		return ""
	}
	return u.Path
}

func (c *client) do(req *http.Request) *page {
	c.t.Helper()
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	p := &page{Status: res.StatusCode, Header: res.Header, Body: string(b)}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		p.Doc, _ = goquery.NewDocumentFromReader(strings.NewReader(p.Body))
		if v, ok := p.Doc.Find(`input[name="_csrf"]`).First().Attr("value"); ok {
			c.csrf = v
		}
	}
	return p
}

func (c *client) get(path string) *page {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.app.srv.URL+path, nil)
	return c.do(req)
}

// post submits a form with the CSRF token of the last page loaded.
func (c *client) post(path string, form url.Values) *page {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("_csrf") == "" {
		form.Set("_csrf", c.csrf)
	}
	req, _ := http.NewRequest(http.MethodPost, c.app.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// login signs in fully (with the TOTP step for enrolled users), opens the
// dashboard, and fails the test otherwise.
func (c *client) login(acc *account) {
	c.t.Helper()
	c.signIn(acc)
	if p := c.get("/"); p.Status != http.StatusOK {
		c.t.Fatalf("dashboard after login as %s: status %d", acc.User.Email, p.Status)
	}
}

// signIn submits the sign-in forms (password, then the TOTP step for
// enrolled users) and fails the test unless they lead to the dashboard.
func (c *client) signIn(acc *account) {
	c.t.Helper()
	c.get("/login")
	p := c.post("/login", url.Values{"email": {acc.User.Email}, "password": {acc.Password}})
	if p.Status != http.StatusSeeOther {
		c.t.Fatalf("login %s: status %d, want 303\n%s", acc.User.Email, p.Status, p.Body)
	}
	if p.Location() == "/login/totp" {
		c.get("/login/totp")
		// The fixture's enrolment spent the current time step; a code is
		// accepted once, so sign in with the next step's (within the skew).
		code, _ := totp.GenerateCode(acc.Secret, time.Now().Add(30*time.Second))
		if p = c.post("/login/totp", url.Values{"code": {code}}); p.Status != http.StatusSeeOther || p.Location() != "/" {
			c.t.Fatalf("TOTP step for %s: status %d to %q", acc.User.Email, p.Status, p.Location())
		}
	} else if p.Location() != "/" {
		c.t.Fatalf("login %s: redirected to %q, want the dashboard", acc.User.Email, p.Location())
	}
}

// server is the handlers.Server behind the app, for its background work.
func (a *testApp) serverOf(t testing.TB) *handlers.Server { return a.server }

// text is the trimmed text of the first element matching sel.
func (p *page) text(sel string) string {
	if p.Doc == nil {
		return ""
	}
	return strings.TrimSpace(p.Doc.Find(sel).First().Text())
}

// auditActions lists the actions recorded so far, oldest first.
func (a *testApp) auditActions() []string {
	a.t.Helper()
	events, err := a.db.ListAudit(context.Background(), modeltest.Staff, store.AuditFilter{Limit: 500})
	if err != nil {
		a.t.Fatal(err)
	}
	out := make([]string, len(events))
	for i, e := range events {
		out[len(events)-1-i] = e.Action
	}
	return out
}
