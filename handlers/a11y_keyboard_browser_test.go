package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/pquerna/otp/totp"
	"github.com/sendara/console/models/modeltest"
	requests "github.com/sendara/console/models/requests"
)

// a11yTabTo presses Tab until the focused element matches sel, as a
// keyboard user moves through a page, and fails when an element focused on
// the way shows no focus outline or sel is never reached.
func (b *browser) a11yTabTo(sel string) {
	b.t.Helper()
	const visible = `(() => { const e = document.activeElement; if (!e || e === document.body) return true;
		const s = getComputedStyle(e); return s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2 })()`
	for range 120 {
		if b.eval(`document.activeElement !== null && document.activeElement.matches(` + jsString(sel) + `)`) {
			if !b.eval(visible) {
				b.t.Errorf("%s has focus but shows no focus outline", sel)
			}
			return
		}
		b.do(chromedp.KeyEvent(kb.Tab))
		if !b.eval(visible) {
			b.t.Errorf("focus on %s is not visible", b.a11yFocused())
		}
	}
	b.screenshot("failure")
	b.t.Fatalf("Tab never reached %s (stuck on %s)", sel, b.a11yFocused())
}

func (b *browser) a11yFocused() string {
	s, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(() => { const e = document.activeElement;
		return e ? e.tagName.toLowerCase() + (e.name ? "[name=" + e.name + "]" : "") + " " + (e.textContent || "").trim().slice(0, 40) : "nothing" })()`))
	return s
}

func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// A keyboard user signs in and records an opt-out with Tab, typing and
// Enter alone, seeing where the focus is at each step.
func TestBrowserKeyboardOnlySignInAndOptOut(t *testing.T) {
	app := newTestApp(t)
	acme := app.customer("acme")
	admin := app.user(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	jane := app.contact(t, acme, "Jane Doe", "+14155550123")

	b := newBrowser(t, app)
	b.do(chromedp.Navigate(b.base+"/login"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=login-form]`)))
	b.a11yTabTo(`input[name=email]`)
	b.do(chromedp.KeyEvent(admin.User.Email))
	b.a11yTabTo(`input[name=password]`)
	b.do(chromedp.KeyEvent(admin.Password), chromedp.KeyEvent(kb.Enter))
	b.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid=customer-today]`)))

	b.do(chromedp.Navigate(b.base+"/contacts/"+jane.ID), chromedp.WaitVisible(chromedp.CSS(`[data-testid=consent-form]`)))
	b.a11yTabTo(`[data-testid=consent-form] select[name=kind]`)
	if !b.eval(`document.activeElement.value === "opt_out"`) {
		t.Fatal("the consent form does not offer an opt-out first")
	}
	b.a11yTabTo(`[data-testid=consent-form] button[type=submit]`)
	b.do(chromedp.KeyEvent(kb.Enter))
	b.do(chromedp.WaitVisible(chromedp.CSS(`[data-consent=opted_out]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid=consent-form]`)))
	b.screenshot("opted-out")

	c, err := app.db.Contact(context.Background(), modeltest.Staff, jane.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Suppressed {
		t.Error("after the keyboard opt-out the contact is not suppressed")
	}
	b.noConsoleErrors()
}

// On a phone 390 px wide the dashboard, a request and a contact fit the
// screen: nothing scrolls sideways but the wide tables inside themselves.
func TestBrowserPagesFitAPhoneScreen(t *testing.T) {
	app := newTestApp(t)
	acme := app.customer("acme")
	jane := app.contact(t, acme, "Jane Doe", "+14155550123", "jane.with.a.rather.long.address@example.com")
	r := app.verifiedRequest(t, calendar.TypeAccess, "+14155550123")
	staff := app.user(accounts.RoleStaffAdmin, nil, "admin@sendara.test")

	b := newBrowser(t, app)
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	b.signedIn(staff, "")
	for _, page := range []struct{ name, path, ready string }{
		{"dashboard", "/", "[data-testid=staff-today]"},
		{"request", "/requests/" + r.ID, "main h1"},
		{"contact", "/contacts/" + jane.ID, "main h1"},
	} {
		b.do(chromedp.Navigate(b.base+page.path), chromedp.WaitVisible(chromedp.CSS(page.ready)))
		if got := b.path(); got != page.path {
			t.Fatalf("%s: at %s, want %s", page.name, got, page.path)
		}
		b.screenshot("phone-" + page.name)
		if !b.eval(`document.documentElement.scrollWidth <= 390`) {
			wide, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("main *")].filter(e => e.getBoundingClientRect().right > 391).slice(0, 5).map(e => e.tagName.toLowerCase() + "." + e.className + " " + Math.round(e.getBoundingClientRect().right)).join(", ")`))
			t.Errorf("%s at 390 px: the page is %s px wide; too wide: %s", page.name,
				evalString(b, `String(document.documentElement.scrollWidth)`), wide)
		}
	}
}

func evalString(b *browser, js string) string {
	s, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
	return s
}

// A privacy officer, by keyboard alone, signs in with the second factor,
// follows the dashboard's "mail waiting for triage" figure to the list and
// the request, and sets its type.
func TestBrowserKeyboardOnlyTriageFromTheDashboard(t *testing.T) {
	app := newTestApp(t)
	officer := app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test")
	r := app.receive(t, requests.MailIntake{MessageID: "kb@example.com", FromAddr: "jane@example.com", Subject: "Delete my data",
		Body: "Please delete everything you hold about me."})
	if r.TypeOr("") != "" {
		t.Fatalf("mail arrived triaged as %q", r.TypeOr(""))
	}

	b := newBrowser(t, app)
	b.do(chromedp.Navigate(b.base+"/login"), chromedp.WaitVisible(chromedp.CSS(`[data-testid=login-form]`)))
	b.a11yTabTo(`input[name=email]`)
	b.do(chromedp.KeyEvent(officer.User.Email))
	b.a11yTabTo(`input[name=password]`)
	b.do(chromedp.KeyEvent(officer.Password), chromedp.KeyEvent(kb.Enter))
	b.do(chromedp.WaitVisible(chromedp.CSS(`input[name=code]`)))
	b.a11yTabTo(`input[name=code]`)
	b.do(chromedp.KeyEvent(a11yNextTOTP(t, officer.Secret)), chromedp.KeyEvent(kb.Enter))
	b.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid=staff-today]`)))

	if got := b.text(`[data-testid=fig-today-untriaged] .n`); got != "1" {
		t.Fatalf("mail waiting for triage: %q, want 1", got)
	}
	b.a11yTabTo(`[data-testid=fig-today-untriaged]`)
	b.do(chromedp.KeyEvent(kb.Enter))
	b.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid=requests]`)))
	if !b.eval(`location.search === "?view=untriaged"`) {
		t.Fatalf("the figure led to %s", b.path())
	}
	b.a11yTabTo(`[data-testid=requests] a[href="/requests/` + r.ID + `"]`)
	b.do(chromedp.KeyEvent(kb.Enter))
	b.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid=request-actions]`)))
	b.a11yTabTo(`form[action$="/triage"] select[name=type]`)
	b.a11yTabTo(`form[action$="/triage"] button[type=submit]`)
	b.do(chromedp.KeyEvent(kb.Enter))
	b.do(chromedp.WaitVisible(chromedp.CSS(`.flash`)))
	if got := b.text(`.flash`); !strings.Contains(got, "Type set") {
		t.Errorf("after triage the page says %q", got)
	}

	got, err := app.db.Request(context.Background(), modeltest.Staff, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.TypeOr("") == "" {
		t.Error("after the keyboard triage the request has no type")
	}
	b.noConsoleErrors()
}

// a11yNextTOTP is the code of the next time step (the fixture's enrolment
// spent the current one).
func a11yNextTOTP(t *testing.T, secret string) string {
	t.Helper()
	code, err := totp.GenerateCode(secret, time.Now().Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// Printed, a report drops the navigation and shows each chart with its
// data table, though the table's disclosure is closed on screen.
func TestBrowserReportPrintsChartsWithTheirDataTables(t *testing.T) {
	app := newTestApp(t)
	auditor := app.user(accounts.RoleAuditor, nil, "auditor@sendara.test")
	b := newBrowser(t, app)
	b.signedIn(auditor, "/reports")
	b.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid=chart-metrics-by-type]`)))
	if b.eval(`document.querySelector("[data-testid=chart-data-metrics-by-type]").checkVisibility()`) {
		t.Error("on screen the data table is open before the disclosure is")
	}
	if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	b.screenshot("print")
	for _, id := range []string{"metrics-by-type", "metrics-by-month", "on-time-by-regime"} {
		if !b.eval(`document.querySelector("[data-testid=chart-data-` + id + `]").checkVisibility()`) {
			t.Errorf("printed, the data table of %s is hidden", id)
		}
	}
	if b.eval(`document.querySelector("header.top").checkVisibility()`) {
		t.Error("printed, the navigation shows")
	}
}
