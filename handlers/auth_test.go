package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/sendara/console/handlers"
	accounts "github.com/sendara/console/models/accounts"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

func TestLoginPageAsksForEmailPasswordAndCarriesACSRFToken(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	p := app.client().get("/login")
	if p.Status != http.StatusOK {
		t.Fatalf("GET /login: status %d", p.Status)
	}
	form := p.Doc.Find(`form[action="/login"][method="post"]`)
	for _, sel := range []string{`input[name="email"]`, `input[name="password"][type="password"]`, `input[name="_csrf"]`} {
		if form.Find(sel).Length() != 1 {
			t.Errorf("login form has no %s", sel)
		}
	}
	if v := form.Find(`input[name="_csrf"]`).AttrOr("value", ""); len(v) < 32 {
		t.Errorf("CSRF field value %q is too short to be a token", v)
	}
}

func TestSignedOutDashboardRedirectsToLogin(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	p := app.client().get("/")
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/login") {
		t.Errorf("GET /: status %d to %q, want 303 to /login", p.Status, p.Header.Get("Location"))
	}
}

func TestLoginWithoutCSRFTokenIsForbidden(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acc := app.user(accounts.RoleCustomerAgent, app.customer("acme"), "agent@acme.test")
	c := app.client()
	c.get("/login") // the pre-session cookie is there; only the token is missing
	form := url.Values{"email": {acc.User.Email}, "password": {acc.Password}}
	if p := c.send(http.MethodPost, "/login", form, nil); p.Status != http.StatusForbidden {
		t.Errorf("POST /login without _csrf: status %d, want 403", p.Status)
	}
	if responseCookie(c.post("/login", form), "console_session") == nil {
		t.Errorf("the same form with its token did not sign in")
	}
}

func TestWrongPasswordIsRefusedAndAudited(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acc := app.user(accounts.RoleCustomerAgent, app.customer("acme"), "agent@acme.test")
	c := app.client()
	c.get("/login")
	p := c.post("/login", url.Values{"email": {acc.User.Email}, "password": {"not the password at all"}})
	if p.Status != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", p.Status)
	}
	if got := p.text(`[data-testid="login-error"]`); got != "Email or password is incorrect." {
		t.Errorf("error shown: %q", got)
	}
	if responseCookie(p, "console_session") != nil {
		t.Errorf("a failed sign-in set a session cookie")
	}
	if !slices.Contains(app.auditActions(), "user.login_failed") {
		t.Errorf("no user.login_failed event in %v", app.auditActions())
	}
}

func TestRepeatedFailuresMakeTheAccountWaitBrieflyWithRetryAfter(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acc := app.user(accounts.RoleCustomerAgent, app.customer("acme"), "agent@acme.test")
	c := app.client()
	c.get("/login")
	for i := 0; i < store.AccountThrottle.Free; i++ {
		if p := c.post("/login", url.Values{"email": {acc.User.Email}, "password": {"wrong guess " + strconv.Itoa(i)}}); p.Status != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d, want 401", i+1, p.Status)
		}
	}
	// Right after the failures, even the right password waits...
	p := c.post("/login", url.Values{"email": {acc.User.Email}, "password": {acc.Password}})
	if p.Status != http.StatusTooManyRequests {
		t.Fatalf("after %d failures: status %d, want 429", store.AccountThrottle.Free, p.Status)
	}
	if msg := p.text(`[data-testid="login-error"]`); !strings.Contains(msg, "Too many failed sign-in attempts") || !strings.Contains(msg, "seconds") {
		t.Errorf("message %q does not say how long to wait", msg)
	}
	secs, err := strconv.Atoi(p.Header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > int(store.AccountThrottle.Base.Seconds())+1 {
		t.Errorf("Retry-After %q, want a few seconds, at most %s", p.Header.Get("Retry-After"), store.AccountThrottle.Base)
	}
	if responseCookie(p, "console_session") != nil {
		t.Errorf("a waiting account was signed in")
	}
	// ...but only that long: the account is not locked.
	if err := app.db.Gorm.Exec("UPDATE auth_throttle SET next_at = ?", store.Now().Add(-time.Second)).Error; err != nil {
		t.Fatal(err)
	}
	if p := c.post("/login", url.Values{"email": {acc.User.Email}, "password": {acc.Password}}); p.Status != http.StatusSeeOther || p.Location() != "/" {
		t.Errorf("right password once the wait is over: status %d to %q, want 303 to /", p.Status, p.Location())
	}
}

func TestSecondFactorStepAnswers429WhileTheAccountMustWait(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acc := app.user(accounts.RoleAuditor, nil, "auditor@sendara.test")
	for range 2 {
		c := app.client()
		c.get("/login")
		c.post("/login", url.Values{"email": {acc.User.Email}, "password": {acc.Password}})
		c.get("/login/totp")
		p := c.post("/login/totp", url.Values{"code": {"000000"}})
		for i := 1; i < accounts.MaxMFAFailures && p.Status == http.StatusUnauthorized; i++ {
			p = c.post("/login/totp", url.Values{"code": {"000000"}})
		}
		if p.Status == http.StatusTooManyRequests {
			if p.Header.Get("Retry-After") == "" || !strings.Contains(p.text(`[data-testid="mfa-error"]`), "Too many wrong codes") {
				t.Errorf("429 without Retry-After or explanation: %q", p.Body)
			}
			return
		}
	}
	t.Errorf("a second half-open session kept guessing codes: no 429 after %d wrong codes", 2*accounts.MaxMFAFailures)
}

// signInWithoutJar signs in handling cookies by hand, so that Secure
// cookies (which a cookie jar withholds from a plain-HTTP test server)
// still reach the server.
func signInWithoutJar(app *testApp, acc *account) *page {
	app.t.Helper()
	c := &client{t: app.t, app: app, http: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
	p := c.get("/login")
	pre := responseCookie(p, "console_csrf")
	if pre == nil {
		app.t.Fatal("GET /login set no console_csrf cookie")
	}
	form := url.Values{"email": {acc.User.Email}, "password": {acc.Password}, "_csrf": {c.csrf}}
	req, _ := http.NewRequest(http.MethodPost, app.srv.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: pre.Name, Value: pre.Value})
	return c.do(req)
}

func TestSessionCookieIsHttpOnlyLaxAndSecureOnlyBehindHTTPS(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		cfg    handlers.Config
		secure bool
	}{
		{"by default", handlers.Config{}, false},
		{"with an https base URL", handlers.Config{BaseURL: "https://console.example"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := newTestAppWith(t, tc.cfg)
			acc := app.user(accounts.RoleCustomerAgent, app.customer("acme"), "agent@acme.test")
			p := signInWithoutJar(app, acc)
			if p.Status != http.StatusSeeOther {
				t.Fatalf("POST /login: status %d, want 303", p.Status)
			}
			ck := responseCookie(p, "console_session")
			if ck == nil || ck.Value == "" {
				t.Fatalf("no console_session cookie in %q", p.Header.Values("Set-Cookie"))
			}
			if !ck.HttpOnly {
				t.Errorf("cookie is not HttpOnly")
			}
			if ck.SameSite != http.SameSiteLaxMode {
				t.Errorf("SameSite = %v, want Lax", ck.SameSite)
			}
			if ck.Secure != tc.secure {
				t.Errorf("Secure = %v, want %v", ck.Secure, tc.secure)
			}
		})
	}
}

func TestSignInIssuesAFreshSessionAndEndsTheBrowsersPreviousOne(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acc := app.user(accounts.RoleCustomerAgent, app.customer("acme"), "agent@acme.test")
	c := app.client()
	// A session id fixed before sign-in (planted by someone else) must not
	// become the signed-in session.
	u, _ := url.Parse(app.srv.URL)
	planted := "planted-session-id-0123456789abcdef0123456789"
	c.http.Jar.SetCookies(u, []*http.Cookie{{Name: "console_session", Value: planted, Path: "/"}})
	before := map[string]bool{planted: true}
	c.get("/login")
	for _, ck := range c.http.Jar.Cookies(u) {
		before[ck.Value] = true
	}
	form := url.Values{"email": {acc.User.Email}, "password": {acc.Password}}

	first := responseCookie(c.post("/login", form), "console_session")
	if first == nil {
		t.Fatal("first sign-in set no session cookie")
	}
	if before[first.Value] {
		t.Errorf("session cookie reuses a value the browser had before sign-in")
	}
	if p := c.get("/"); p.Status != http.StatusOK {
		t.Fatalf("after first sign-in GET /: status %d", p.Status)
	}

	second := responseCookie(c.post("/login", form), "console_session")
	if second == nil {
		t.Fatal("second sign-in set no session cookie")
	}
	if second.Value == first.Value {
		t.Errorf("signing in again kept the same session id")
	}
	if p := app.getWithCookie("/", first); p.Status != http.StatusSeeOther || p.Location() != "/login" {
		t.Errorf("the earlier session cookie still works: status %d to %q", p.Status, p.Location())
	}
	if p := c.get("/"); p.Status != http.StatusOK {
		t.Errorf("the new session does not work: status %d", p.Status)
	}
}

func TestStaffFirstSignInMustEnrolTOTPBeforeAnyPage(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	u, err := app.db.CreateUser(context.Background(), modeltest.Staff, accounts.UserInput{
		Email: "officer@sendara.test", Role: accounts.RolePrivacyOfficer, Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	c := app.client()
	c.get("/login")
	p := c.post("/login", url.Values{"email": {u.Email}, "password": {testPassword}})
	if p.Status != http.StatusSeeOther || p.Location() != "/login/totp/enrol" {
		t.Fatalf("sign-in: status %d to %q, want 303 to /login/totp/enrol", p.Status, p.Location())
	}
	for _, path := range []string{"/", "/customers", "/audit", "/account"} {
		if p := c.get(path); p.Status != http.StatusSeeOther || p.Location() != "/login/totp/enrol" {
			t.Errorf("GET %s before enrolment: status %d to %q, want 303 to /login/totp/enrol", path, p.Status, p.Location())
		}
	}

	p = c.get("/login/totp/enrol")
	secret := p.text(`[data-testid="totp-secret"]`)
	if p.Status != http.StatusOK || secret == "" {
		t.Fatalf("enrolment page: status %d, secret %q", p.Status, secret)
	}

	p = c.post("/login/totp/enrol", url.Values{"secret": {secret}, "code": {wrongCode(secret)}})
	if p.Status != http.StatusUnprocessableEntity {
		t.Errorf("wrong code: status %d, want 422", p.Status)
	}
	if got := p.text(`[data-testid="totp-secret"]`); got != secret {
		t.Errorf("after a wrong code the page shows key %q, want the same %q", got, secret)
	}
	if p := c.get("/"); p.Status != http.StatusSeeOther {
		t.Errorf("a wrong code let the session through: GET / status %d", p.Status)
	}

	code, _ := totp.GenerateCode(secret, time.Now())
	p = c.post("/login/totp/enrol", url.Values{"secret": {secret}, "code": {code}})
	if p.Status != http.StatusOK {
		t.Fatalf("valid code: status %d, want 200", p.Status)
	}
	if n := p.Doc.Find(`[data-testid="recovery-codes"] li`).Length(); n != accounts.RecoveryCodeCount {
		t.Errorf("%d recovery codes shown, want %d", n, accounts.RecoveryCodeCount)
	}
	if p := c.get("/"); p.Status != http.StatusOK {
		t.Errorf("after enrolment GET /: status %d, want 200", p.Status)
	}

	again := app.client()
	again.get("/login")
	p = again.post("/login", url.Values{"email": {u.Email}, "password": {testPassword}})
	if p.Status != http.StatusSeeOther || p.Location() != "/login/totp" {
		t.Errorf("second sign-in: status %d to %q, want 303 to /login/totp", p.Status, p.Location())
	}
}

func TestRecoveryCodeSignsInOnce(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	u, err := app.db.CreateUser(ctx, modeltest.Staff, accounts.UserInput{Email: "auditor@sendara.test", Role: accounts.RoleAuditor, Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	key, err := app.db.BeginTOTP(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCode(key.Secret(), time.Now())
	codes, err := app.db.ConfirmTOTP(ctx, u.Actor(""), "fixture", key.Secret(), code)
	if err != nil {
		t.Fatal(err)
	}

	useCode := func() *page {
		c := app.client()
		c.get("/login")
		p := c.post("/login", url.Values{"email": {u.Email}, "password": {testPassword}})
		if p.Status != http.StatusSeeOther || p.Location() != "/login/totp" {
			t.Fatalf("sign-in: status %d to %q, want 303 to /login/totp", p.Status, p.Location())
		}
		c.get("/login/totp")
		p = c.post("/login/totp", url.Values{"code": {codes[0]}})
		if p.Status == http.StatusSeeOther {
			if home := c.get("/"); home.Status != http.StatusOK {
				t.Errorf("after the second step GET /: status %d", home.Status)
			}
		}
		return p
	}
	if p := useCode(); p.Status != http.StatusSeeOther || p.Location() != "/" {
		t.Errorf("first use of a recovery code: status %d to %q, want 303 to /", p.Status, p.Location())
	}
	if p := useCode(); p.Status != http.StatusUnauthorized {
		t.Errorf("second use of the same recovery code: status %d, want 401", p.Status)
	}
}

func TestLogoutEndsTheSessionAndIsAudited(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acc := app.user(accounts.RoleCustomerAgent, app.customer("acme"), "agent@acme.test")
	c := app.client()
	c.login(acc)
	session := c.jarCookie("console_session")
	if session == nil {
		t.Fatal("signed in without a console_session cookie")
	}

	p := c.post("/logout", nil)
	if p.Status != http.StatusSeeOther || p.Location() != "/login" {
		t.Fatalf("POST /logout: status %d to %q, want 303 to /login", p.Status, p.Location())
	}
	if p := c.get("/"); p.Status != http.StatusSeeOther || p.Location() != "/login" {
		t.Errorf("after logout GET /: status %d to %q", p.Status, p.Location())
	}
	if p := app.getWithCookie("/", session); p.Status != http.StatusSeeOther {
		t.Errorf("the signed-out session cookie still works: status %d", p.Status)
	}
	if !slices.Contains(app.auditActions(), "user.logout") {
		t.Errorf("no user.logout event in %v", app.auditActions())
	}
}

func TestHTMXHeaderCarriesTheCSRFTokenInsteadOfTheFormField(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acc := app.user(accounts.RoleCustomerAgent, app.customer("acme"), "agent@acme.test")
	c := app.client()
	c.login(acc)
	// htmx takes the token from the body's hx-headers attribute.
	var hx map[string]string
	if err := json.Unmarshal([]byte(c.get("/").Doc.Find("body").AttrOr("hx-headers", "")), &hx); err != nil || hx["X-CSRF-Token"] == "" {
		t.Fatalf("page gives htmx no X-CSRF-Token: %v %v", hx, err)
	}

	if p := c.send(http.MethodPost, "/logout", url.Values{}, nil); p.Status != http.StatusForbidden {
		t.Fatalf("POST with neither field nor header: status %d, want 403", p.Status)
	}
	header := http.Header{"X-Csrf-Token": {hx["X-CSRF-Token"]}}
	if p := c.send(http.MethodPost, "/logout", url.Values{}, header); p.Status != http.StatusSeeOther {
		t.Errorf("POST with the header only: status %d, want 303", p.Status)
	}
	if p := c.get("/"); p.Status != http.StatusSeeOther {
		t.Errorf("the header-authorised logout did not end the session: GET / status %d", p.Status)
	}
}

func TestLoginPageSendsSecurityHeaders(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	p := app.client().get("/login")
	cases := []struct {
		header, contains string
	}{
		{"Content-Security-Policy", "script-src 'self'"},
		{"Content-Security-Policy", "frame-ancestors 'none'"},
		{"X-Content-Type-Options", "nosniff"},
		{"Referrer-Policy", ""},
	}
	for _, tc := range cases {
		got := p.Header.Get(tc.header)
		if got == "" || !strings.Contains(got, tc.contains) {
			t.Errorf("%s: %q, want it set and containing %q", tc.header, got, tc.contains)
		}
	}
}

func TestHealthzAnswersOK(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	p := app.client().get("/healthz")
	if p.Status != http.StatusOK || p.Body != "ok" {
		t.Errorf("GET /healthz: status %d body %q, want 200 \"ok\"", p.Status, p.Body)
	}
}

func TestReadyzFollowsTheDatabase(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := app.client()
	if p := c.get("/readyz"); p.Status != http.StatusOK {
		t.Errorf("GET /readyz with the database up: status %d, want 200", p.Status)
	}
	if err := app.db.Close(); err != nil {
		t.Fatal(err)
	}
	pastTheCache()
	if p := c.get("/readyz"); p.Status != http.StatusServiceUnavailable {
		t.Errorf("GET /readyz with the database closed: status %d, want 503", p.Status)
	}
}

func TestInvitedUserChoosesAPasswordOnceAndSignsIn(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acme := app.customer("acme")
	admin := app.user(accounts.RoleStaffAdmin, nil, "admin@sendara.test")
	c := app.client()
	c.login(admin)
	c.get("/users")
	p := c.post("/users", url.Values{"email": {"new.agent@acme.test"}, "name": {"New Agent"}, "role": {"customer_agent"}, "customer_id": {acme.ID}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("POST /users: status %d, want 303", p.Status)
	}
	link := &url.URL{Path: accountsMailedLink(t, app, "new.agent@acme.test", "/invite/")}
	invited, err := app.db.Users(context.Background(), modeltest.Staff)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(invited, func(u accounts.User) bool {
		return u.Email == "new.agent@acme.test" && u.PasswordHash == "" && u.Tenant() == acme.ID && u.Role() == accounts.RoleCustomerAgent
	}) {
		t.Fatalf("no invited customer_agent of acme without a password among %d users", len(invited))
	}

	invitee := app.client()
	p = invitee.get(link.Path)
	if p.Status != http.StatusOK || p.Doc.Find(`input[name="password"]`).Length() != 1 {
		t.Fatalf("GET invite link: status %d, want 200 with a password field", p.Status)
	}
	weak := []struct{ password, message string }{
		{"short one", "at least 12 characters"},
		{"password1234", "too common"},
	}
	for _, w := range weak {
		p = invitee.post(link.Path, url.Values{"password": {w.password}})
		if p.Status != http.StatusUnprocessableEntity {
			t.Errorf("password %q: status %d, want 422", w.password, p.Status)
		}
		if msg := p.text("#err-password"); !strings.Contains(msg, w.message) {
			t.Errorf("password %q: error %q, want it to mention %q", w.password, msg, w.message)
		}
	}

	chosen := "violet anchor mountain drift 42"
	p = invitee.post(link.Path, url.Values{"password": {chosen}})
	if p.Status != http.StatusSeeOther || p.Location() != "/login" {
		t.Fatalf("good password: status %d to %q, want 303 to /login", p.Status, p.Location())
	}

	reuse := app.client()
	if p := reuse.get(link.Path); p.Status != http.StatusNotFound {
		t.Errorf("GET the spent link: status %d, want 404", p.Status)
	}
	reuse.get("/login") // the dead-link page has no form to take a token from
	if p := reuse.post(link.Path, url.Values{"password": {"another fine passphrase 99"}}); p.Status != http.StatusNotFound {
		t.Errorf("POST the spent link: status %d, want 404", p.Status)
	}
	app.client().login(&account{User: &accounts.User{Email: "new.agent@acme.test"}, Password: chosen})
}

func TestPasswordAloneCannotReplaceAnEnrolledSecondFactor(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acc := app.user(accounts.RoleStaffAdmin, nil, "admin@sendara.test")
	before, err := app.db.User(context.Background(), modeltest.Staff, acc.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	c := app.client()
	c.get("/login")
	if p := c.post("/login", url.Values{"email": {acc.User.Email}, "password": {acc.Password}}); p.Location() != "/login/totp" {
		t.Fatalf("sign-in: status %d to %q, want the TOTP step", p.Status, p.Location())
	}
	// Someone with only the password enrols an authenticator of their own.
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "attacker", AccountName: acc.User.Email})
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCode(key.Secret(), time.Now())
	if p := c.get("/login/totp"); p.Status != http.StatusOK {
		t.Fatalf("TOTP step: status %d", p.Status) // its form gives the session's CSRF token
	}
	if p := c.post("/login/totp/enrol", url.Values{"secret": {key.Secret()}, "code": {code}}); p.Status == http.StatusForbidden {
		t.Fatalf("enrolment refused on its CSRF token, so the test proves nothing")
	}
	if p := c.get("/"); p.Status != http.StatusSeeOther || p.Location() != "/login/totp" {
		t.Errorf("after enrolling a new authenticator with the password alone, GET /: status %d to %q", p.Status, p.Location())
	}
	u, err := app.db.User(context.Background(), modeltest.Staff, acc.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.TOTPSecret != before.TOTPSecret {
		t.Errorf("the enrolled TOTP secret was replaced")
	}
}

func TestStaffSignInReturnsToThePageAskedFor(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acc := app.user(accounts.RoleAuditor, nil, "auditor@sendara.test")
	c := app.client()
	p := c.get("/audit")
	login := c.get(p.Header.Get("Location"))
	next := login.Doc.Find(`input[name="next"]`).AttrOr("value", "")
	p = c.post("/login", url.Values{"email": {acc.User.Email}, "password": {acc.Password}, "next": {next}})
	if p.Location() != "/login/totp" {
		t.Fatalf("sign-in: status %d to %q, want the TOTP step", p.Status, p.Location())
	}
	step := c.get(p.Header.Get("Location"))
	action := step.Doc.Find(`form[method="post"]`).First().AttrOr("action", "")
	carried := step.Doc.Find(`form[method="post"] input[name="next"]`).AttrOr("value", "")
	// The fixture's enrolment spent the current time step.
	code, _ := totp.GenerateCode(acc.Secret, time.Now().Add(30*time.Second))
	p = c.post(action, url.Values{"code": {code}, "next": {carried}})
	if p.Status != http.StatusSeeOther || p.Location() != "/audit" {
		t.Errorf("after the TOTP step: status %d to %q, want 303 to /audit", p.Status, p.Location())
	}
}

func TestTOTPCodeIsAcceptedOnlyOnce(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acc := app.user(accounts.RoleAuditor, nil, "auditor@sendara.test")
	code, _ := totp.GenerateCode(acc.Secret, time.Now().Add(30*time.Second))
	step := func() *page {
		c := app.client()
		c.get("/login")
		c.post("/login", url.Values{"email": {acc.User.Email}, "password": {acc.Password}})
		c.get("/login/totp")
		return c.post("/login/totp", url.Values{"code": {code}})
	}
	if p := step(); p.Status != http.StatusSeeOther {
		t.Fatalf("first use of the code: status %d, want 303", p.Status)
	}
	if p := step(); p.Status != http.StatusUnauthorized {
		t.Errorf("the same code again (a replay, NIST SP 800-63B 5.1.4.2): status %d, want 401", p.Status)
	}
}

func TestSignInReturnsOnlyToPathsOnThisSite(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	acc := app.user(accounts.RoleCustomerAgent, app.customer("acme"), "agent@acme.test")
	cases := []struct{ next, want string }{
		{"/contacts", "/contacts"},
		{"/contacts?q=jane%20doe&page=2", "/contacts?q=jane%20doe&page=2"},
		{"/requests/0190a6f2-0000-7000-8000-000000000000", "/requests/0190a6f2-0000-7000-8000-000000000000"},
		{"", "/"},
		{"contacts", "/"},
		{"//evil.example/", "/"},
		{"///evil.example/", "/"},
		{"/\\evil.example/", "/"},
		{"\\\\evil.example/", "/"},
		{"/\t/evil.example/", "/"},
		{"/\n/evil.example/", "/"},
		{"/\r\n/evil.example/", "/"},
		{"/ /evil.example/", "/"},
		{"/\x00/evil.example/", "/"},
		{"/%09/evil.example/", "/"},
		{"/%0a/evil.example/", "/"},
		{"/%0D%0A/evil.example/", "/"},
		{"/%5C/evil.example/", "/"},
		{"/%5c%5cevil.example/", "/"},
		{"/%2F/evil.example/", "/"},
		{"/%2f%2fevil.example/", "/"},
		{"/%252F/evil.example/", "/"},
		{"/%2509/evil.example/", "/"},
		{"/%00/evil.example/", "/"},
		{"/%zz", "/"},
		{"https://evil.example/", "/"},
		{"http:evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"/\u3000/evil.example/", "/"},
		{"/\u200b/evil.example/", "/"},
		{"@evil.example", "/"},
		{"/contacts\r\nSet-Cookie: x=y", "/"},
	}
	for _, tc := range cases {
		t.Run(strconv.Quote(tc.next), func(t *testing.T) {
			c := app.client()
			login := c.get("/login?next=" + url.QueryEscape(tc.next))
			if carried := login.Doc.Find(`input[name="next"]`).AttrOr("value", ""); carried != tc.want {
				t.Errorf("the sign-in form carries next=%q, want %q", carried, tc.want)
			}
			p := c.post("/login", url.Values{"email": {acc.User.Email}, "password": {acc.Password}, "next": {tc.next}})
			if p.Status != http.StatusSeeOther || p.Header.Get("Location") != tc.want {
				t.Errorf("sign-in with next=%q: status %d, Location %q, want 303 to %q", tc.next, p.Status, p.Header.Get("Location"), tc.want)
			}
		})
	}
}
