package handlers_test

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	accounts "github.com/sendara/console/models/accounts"

	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
	"github.com/sendara/console/models/modeltest"
)

// browser drives Debian's Chromium against the test app's real pages and
// collects what the pages write to the console (script errors, CSP
// violations). Without Chromium the tests skip, unless
// CONSOLE_REQUIRE_BROWSER is set, as CI does: there a missing browser fails.
type browser struct {
	t       *testing.T
	ctx     context.Context
	base    string
	app     *testApp
	mu      sync.Mutex
	console []chromedp.ConsoleMessage
	dialogs []string // the confirmations pages asked for, each accepted

	// a11yChecked, when set, lets a11yVisit skip axe on a page whose main
	// content another visit already checked (a11y_browser_test.go).
	a11yChecked *a11yChecked
	// a11yFrameChecked: axe has checked a whole page (the role's frame
	// with it) in this browser.
	a11yFrameChecked bool
	// a11yDark: the pages are shown in the dark colour scheme.
	a11yDark bool
	// a11yAxeEachPage: axe is loaded into every new document.
	a11yAxeEachPage bool
}

// newBrowser opens a browser for one test. Browser tests run in parallel with each other (t.Parallel): each has its
// own database, server and browser context, and most of their time is
// spent waiting on the browser.
func newBrowser(t *testing.T, app *testApp) *browser {
	t.Helper()
	t.Parallel()
	return openBrowser(t, app)
}

// openBrowser opens a browser context for a test that is already parallel
// or means to run its subtests one after another (the axe walk).
func openBrowser(t *testing.T, app *testApp) *browser {
	t.Helper()
	root, err := sharedChromium()
	if err != nil {
		if os.Getenv("CONSOLE_REQUIRE_BROWSER") != "" {
			t.Fatalf("CONSOLE_REQUIRE_BROWSER is set but chromium cannot start: %v", err)
		}
		t.Skipf("chromium cannot start (%v); browser tests need Debian's chromium-headless-shell or chromium package (CI installs the first)", err)
	}
	// A browser context of its own per test: a fresh cookie jar and
	// storage, as a new incognito window would have, in the one browser
	// the package shares.
	tab, cancelTab := chromedp.NewContext(root, chromedp.WithNewBrowserContext())
	ctx, cancelTimeout := context.WithTimeout(tab, 5*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelTab() })
	b := &browser{t: t, ctx: ctx, base: app.srv.URL, app: app}
	// Confirmations (hx-confirm) are accepted, as a person who read them
	// would, and kept so tests can check what they said.
	dialogs := chromedp.Events(ctx, cdppage.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.dialogs = append(b.dialogs, ev.Message)
			b.mu.Unlock()
			go func() {
				_, _ = chromedp.Call(ctx, cdppage.HandleJavaScriptDialog, cdppage.HandleJavaScriptDialogParams{Accept: true})
			}()
		}
	}()
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	}()
	return b
}

// chromium is the one browser process the package's tests share: starting
// Chromium costs seconds, a new browser context costs milliseconds.
var chromium struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	err    error
}

// chromiumPath finds the browser: Debian's chromium-headless-shell, the
// headless-only build made for automation, when installed (CI installs
// it), or else the full chromium. The shell does the same work for these
// tests with a third to a half of the CPU per page load (no browser UI
// behind each navigation): the handlers tests took 128 s with it and
// 210–240 s with the full browser on a two-core machine (README, Tests).
func chromiumPath() (string, error) {
	if path, err := exec.LookPath("chromium-headless-shell"); err == nil {
		return path, nil
	}
	return exec.LookPath("chromium")
}

// sharedChromium starts Debian's Chromium on first use and returns a context
// holding it. TestMain stops it.
func sharedChromium() (context.Context, error) {
	chromium.once.Do(func() {
		path, err := chromiumPath()
		if err != nil {
			chromium.err = err
			return
		}
		dir, err := os.MkdirTemp("", "console-chromium-")
		if err != nil {
			chromium.err = err
			return
		}
		opts := []chromedp.ExecAllocatorOption{
			chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
			chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true),
			chromedp.UserDataDir(dir), chromedp.WindowSize(1280, 900),
		}
		actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, cancelBrowser := chromedp.NewContext(actx)
		chromium.cancel = func() { cancelBrowser(); cancelAlloc(); os.RemoveAll(dir) }
		// The first run starts the browser; contexts made from bctx later
		// open tabs in it.
		if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool]("true")); err != nil {
			chromium.cancel()
			chromium.err = err
			return
		}
		chromium.ctx = bctx
	})
	return chromium.ctx, chromium.err
}

// stopChromium ends the shared browser, if one started.
func stopChromium() {
	if chromium.cancel != nil {
		chromium.cancel()
	}
}

// confirmed reports the confirmations accepted so far.
func (b *browser) confirmed() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.dialogs)
}

// do runs steps and fails the test, with a screenshot, when one fails.
func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.screenshot("failure")
		b.t.Fatalf("browser: %v", err)
	}
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.screenshot("failure")
		b.t.Fatalf("read text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

func (b *browser) eval(js string) bool {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](js))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// waitFor polls a JavaScript condition until it holds (a navigation
// finished, a fragment arrived).
// It evaluates again after errors, since a navigation in progress
// interrupts an evaluation.
func (b *browser) waitFor(js string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var lastErr error
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](js))
		if err == nil && ok {
			return
		}
		lastErr = err
		time.Sleep(50 * time.Millisecond)
	}
	b.screenshot("failure")
	b.t.Fatalf("waiting for %s: %v", js, lastErr)
}

func (b *browser) path() string {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	return strings.TrimPrefix(loc, b.base)
}

// screenshot saves the page under CONSOLE_SCREENSHOT_DIR, when set, for a
// person to look at.
func (b *browser) screenshot(name string) {
	dir := os.Getenv("CONSOLE_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err == nil {
		_ = os.WriteFile(filepath.Join(dir, b.t.Name()+"-"+name+".png"), png, 0o644)
	}
}

// noConsoleErrors fails on script errors, failed loads and
// Content-Security-Policy violations: the pages must work with inline
// scripts forbidden. expected lists messages the test itself provoked.
func (b *browser) noConsoleErrors(expected ...string) {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
next:
	for _, m := range b.console {
		for _, e := range expected {
			if strings.Contains(m.Text, e) {
				continue next
			}
		}
		if m.IsException() || m.Type == "error" || strings.Contains(m.Text, "Content Security Policy") {
			b.t.Errorf("browser console: %s", m.String())
		}
	}
}

func (b *browser) signIn(email, password string) {
	b.t.Helper()
	b.do(
		chromedp.Navigate(b.base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=login-form]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), password),
		chromedp.Click(chromedp.CSS(`[data-testid=login-form] button[type=submit]`)),
	)
}

// signedIn gives the browser a session of acc and opens path (none when
// path is ""), waiting for the page frame that names the user. The session
// comes from the sign-in forms themselves, submitted over HTTP by a client
// (password, then the TOTP step for staff: the same handlers, audit entries
// and checks), and its cookies are handed to the browser with the flags
// the console gives every cookie (Server.SetCookie: HttpOnly, SameSite=Lax).
// The tests about signing in type into those pages in the browser (the
// dashboard's, the wrong password's, TOTP enrolment's, the auditor's chain
// walk, the keyboard walk, the forgotten password); the others loaded the
// login page, the TOTP page and a dashboard only to leave them: more than
// half of their page loads, each costing the browser far more CPU than the
// client's request costs the test.
func (b *browser) signedIn(acc *account, path string) {
	b.t.Helper()
	c := b.app.client()
	c.signIn(acc)
	u, err := url.Parse(b.base + "/")
	if err != nil {
		b.t.Fatal(err)
	}
	var cookies []*network.CookieParam
	for _, k := range c.http.Jar.Cookies(u) {
		cookies = append(cookies, &network.CookieParam{Name: k.Name, Value: k.Value, URL: u.String(), HTTPOnly: true, SameSite: network.CookieSameSiteLax})
	}
	if len(cookies) == 0 {
		b.t.Fatalf("signing in as %s set no cookie", acc.User.Email)
	}
	if _, err := chromedp.Call(b.ctx, network.SetCookies, network.SetCookiesParams{Cookies: cookies}); err != nil {
		b.t.Fatalf("hand the session to the browser: %v", err)
	}
	if path == "" {
		return
	}
	b.do(chromedp.Navigate(b.base+path), chromedp.WaitVisible(chromedp.CSS(`[data-testid=whoami]`)))
	if got := b.text(`[data-testid=whoami]`); got != acc.User.Email {
		b.t.Fatalf("signed in as %s, the page names %q", acc.User.Email, got)
	}
}

// navOffers fails unless the navigation links to href and marks it as the
// page shown: what clicking that link from another page would have proved.
func (b *browser) navOffers(href string) {
	b.t.Helper()
	if !b.eval(`document.querySelector('header nav a[href="` + href + `"]')?.getAttribute("aria-current") === "page"`) {
		b.t.Errorf("the navigation does not offer %s as the page shown", href)
	}
}

// typeTOTP types the code of the next time step: a fixture's enrolment
// spent the current one, and each code is accepted once.
func (b *browser) typeTOTP(secret string) {
	b.t.Helper()
	code, err := totp.GenerateCode(secret, time.Now().Add(30*time.Second))
	if err != nil {
		b.t.Fatal(err)
	}
	b.do(
		chromedp.WaitVisible(chromedp.CSS(`input[name=code]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=code]`), code),
		chromedp.Submit(chromedp.CSS(`input[name=code]`)),
	)
}

func TestBrowserCustomerAdminSignsInAndSeesTheirDashboard(t *testing.T) {
	app := newTestApp(t)
	acme := app.customer("acme")
	admin := app.user(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	app.user(accounts.RoleCustomerAgent, acme, "agent@acme.test")
	other := app.customer("other")
	app.user(accounts.RoleCustomerAdmin, other, "admin@other.test")
	if _, _, err := app.db.CreateAPIKey(context.Background(), modeltest.Staff, acme.ID, "HubSpot"); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t, app)
	b.signIn(admin.User.Email, admin.Password)
	b.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid=fig-users]`)))
	b.screenshot("dashboard")

	if got := b.text(`main h1`); got != "Dashboard" {
		t.Errorf("heading = %q, want Dashboard", got)
	}
	figures := map[string]string{"fig-users": "2", "fig-keys": "1", "fig-disabled-users": "0"}
	for id, want := range figures {
		if got := b.text(`[data-testid=` + id + `] .n`); got != want {
			t.Errorf("%s = %q, want %q (own tenant only)", id, got, want)
		}
	}
	if got := b.text(`[data-testid=whoami]`); got != admin.User.Email {
		t.Errorf("signed-in user shown as %q", got)
	}
	nav := b.text(`header nav`)
	for _, want := range []string{"Dashboard", "Users", "API keys", "Audit log"} {
		if !strings.Contains(nav, want) {
			t.Errorf("navigation %q lacks %q", nav, want)
		}
	}
	if strings.Contains(nav, "Customers") {
		t.Errorf("a customer admin's navigation offers Customers: %q", nav)
	}
	if !b.eval(`typeof htmx === "object"`) {
		t.Error("htmx did not load from /static")
	}
	b.noConsoleErrors()
}

func TestBrowserWrongPasswordIsExplainedOnTheLoginPage(t *testing.T) {
	app := newTestApp(t)
	admin := app.user(accounts.RoleCustomerAdmin, app.customer("acme"), "admin@acme.test")

	b := newBrowser(t, app)
	b.signIn(admin.User.Email, "not the right passphrase")
	b.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid=login-error]`)))
	if got := b.text(`[data-testid=login-error]`); got != "Email or password is incorrect." {
		t.Errorf("error shown = %q", got)
	}
	if p := b.path(); p != "/login" {
		t.Errorf("after a wrong password the browser is at %q, want /login", p)
	}
	b.noConsoleErrors("status of 401")
}

func TestBrowserStaffAdminEnrolsTOTPAtFirstSignIn(t *testing.T) {
	app := newTestApp(t)
	app.customer("acme")
	app.customer("brightside")
	u, err := app.db.CreateUser(context.Background(), modeltest.Staff, accounts.UserInput{
		Email: "staff@sendara.test", Role: accounts.RoleStaffAdmin, Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t, app)
	b.signIn(u.Email, testPassword)
	b.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid=totp-secret]`)))
	b.screenshot("enrol")
	if p := b.path(); !strings.HasPrefix(p, "/login/totp/enrol") {
		t.Fatalf("staff first sign-in went to %q, want the TOTP enrolment", p)
	}
	if !b.eval(`document.querySelector("figure.qr img").naturalWidth > 0`) {
		t.Error("the QR code image did not render (CSP img-src must allow data:)")
	}
	b.typeTOTP(b.text(`[data-testid=totp-secret]`))
	b.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid=recovery-codes]`)))
	if !b.eval(`document.querySelectorAll("[data-testid=recovery-codes] li").length === 10`) {
		t.Error("want 10 recovery codes shown")
	}
	b.do(
		chromedp.Click(chromedp.CSS(`a.button`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=fig-customers]`)),
	)
	b.screenshot("dashboard")
	if got := b.text(`[data-testid=fig-customers] .n`); got != "2" {
		t.Errorf("active customers = %q, want 2", got)
	}
	b.noConsoleErrors()
}

func TestBrowserAuditorVerifiesTheChainWithoutLeavingThePage(t *testing.T) {
	app := newTestApp(t)
	app.customer("acme")
	auditor := app.user(accounts.RoleAuditor, nil, "auditor@sendara.test")

	b := newBrowser(t, app)
	b.signIn(auditor.User.Email, auditor.Password)
	b.typeTOTP(auditor.Secret)
	b.do(
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=fig-audit-events]`)),
		chromedp.Navigate(b.base+"/audit"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=audit]`)),
		chromedp.Evaluate[chromedp.Void](`window.__sameDocument = true`),
		chromedp.Click(chromedp.CSS(`form[action="/audit/verify"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`#verify-result [data-testid=verify-result]`)),
	)
	b.screenshot("verified")
	if got := b.text(`[data-testid=verify-result]`); !strings.HasPrefix(got, "Chain intact:") {
		t.Errorf("verification shows %q", got)
	}
	if !b.eval(`window.__sameDocument === true`) {
		t.Error("verifying reloaded the page; htmx should have swapped the result in")
	}
	b.noConsoleErrors()
}
