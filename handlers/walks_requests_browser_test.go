package handlers_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
)

// walksIdentifierRow is the text of the request page's line for one
// subject identifier.
func walksIdentifierRow(b *browser, value string) string {
	b.t.Helper()
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(() => {
		for (const li of document.querySelectorAll("[data-testid=subject-identifiers] li")) {
			if (li.querySelector("code") && li.querySelector("code").textContent.trim() === `+"`"+value+"`"+`) return li.textContent.replace(/\s+/g, " ").trim();
		}
		return "";
	})()`))
	if err != nil {
		b.t.Fatalf("read identifier %s: %v", value, err)
	}
	return got
}

// walksSearch presses "Search customers" and returns what the page says
// about who holds the person.
func walksSearch(b *browser) string {
	b.t.Helper()
	b.do(
		chromedp.Evaluate[chromedp.Void](`document.getElementById("person-matches").innerHTML = ""`),
		chromedp.Click(chromedp.CSS(`form[action$="/search"] button`)),
	)
	b.waitFor(`!!document.querySelector("#person-matches [data-testid=person-matches]") && !document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling")`)
	return b.text(`#person-matches [data-testid=person-matches]`)
}

// A requester asks on the public form with an email and a phone and
// confirms the email by its link: the page shows the phone unverified and
// the search finds only who holds the email; once staff record a
// call-back to the phone, the page says so and the search finds its holder
// too.
func TestBrowserWalksAPhoneIsUsedOnlyAfterStaffVerifyIt(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	acme, bright := app.customer("acme"), app.customer("bright")
	app.contact(t, acme, "Jane Doe", "+14155550123")
	app.contact(t, bright, "Jane", "jane@example.com")
	officer := app.user(models.RolePrivacyOfficer, nil, "officer@sendara.test")

	b := newBrowser(t, app)
	b.do(
		chromedp.Navigate(b.base+"/privacy-request"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=public-request-form]`)),
		chromedp.SetValue(chromedp.CSS(`select[name=want]`), models.TypeAccess),
		chromedp.SetValue(chromedp.CSS(`select[name=where]`), models.RegimeCCPA),
		chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "Jane Doe"),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), "jane@example.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name=phone]`), "415 555 0123"),
		chromedp.Click(chromedp.CSS(`[data-testid=public-request-form] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=public-request-sent]`)),
	)
	link := regexp.MustCompile(`/privacy-request/confirm/[A-Za-z0-9_-]+`).FindString(app.outboxTo(t, "jane@example.com", models.MailVerification).BodyText)
	if link == "" {
		t.Fatal("no confirmation link in the verification mail")
	}
	b.do(
		chromedp.Navigate(b.base+link),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=public-request-confirm] button`)),
		chromedp.Click(chromedp.CSS(`[data-testid=public-request-confirm] button`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=public-request-confirmed]`)),
	)
	rs, err := app.db.RequestsByEmail(ctx, modeltest.Staff, "jane@example.com")
	if err != nil || len(rs) != 1 {
		t.Fatalf("requests by jane: %v %v", rs, err)
	}

	b.signIn(officer.User.Email, officer.Password)
	b.typeTOTP(officer.Secret)
	b.do(
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=whoami]`)),
		chromedp.Navigate(b.base+"/requests/"+rs[0].ID),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=subject-identifiers]`)),
	)
	if got := b.text(`[data-testid=request-status]`); got != "verified" {
		t.Errorf("status after the link: %q", got)
	}
	if got := walksIdentifierRow(b, "jane@example.com"); !strings.Contains(got, "verified (emailed link)") {
		t.Errorf("the email reads %q, want verified by the emailed link", got)
	}
	if got := walksIdentifierRow(b, "+14155550123"); !strings.Contains(got, "not verified: not used to search, route or fulfil") {
		t.Errorf("the phone reads %q, want the warning that it is not used", got)
	}
	found := walksSearch(b)
	if !strings.Contains(found, "1 customer(s)") || !strings.Contains(found, bright.Name) || strings.Contains(found, acme.Name) {
		t.Errorf("with the phone unverified the search says %q; want only %s (the email's holder)", found, bright.Name)
	}

	b.do(
		chromedp.SetValue(chromedp.CSS(`form[action$="/verify-identifier"] select[name=method]`), "phone_call"),
		chromedp.SendKeys(chromedp.CSS(`form[action$="/verify-identifier"] input[name=note]`), "called +1 415 555 0123, Jane confirmed the request"),
	)
	b.submitForm(`form[action$="/verify-identifier"]`)
	if got := b.text(`.flash`); !strings.Contains(got, "search, routing and fulfilment now use it") {
		t.Errorf("after verifying the phone the page says %q", got)
	}
	if got := walksIdentifierRow(b, "+14155550123"); !strings.Contains(got, "verified (call-back to the phone)") || strings.Contains(got, "not verified") {
		t.Errorf("the phone reads %q after the call-back", got)
	}
	if b.eval(`!!document.querySelector("[data-testid=unverified]")`) {
		t.Error("an identifier is still marked unverified")
	}
	found = walksSearch(b)
	if !strings.Contains(found, "2 customer(s)") || !strings.Contains(found, acme.Name) || !strings.Contains(found, bright.Name) {
		t.Errorf("after the call-back the search says %q; want %s and %s", found, acme.Name, bright.Name)
	}
	if got := b.text(`[data-testid=timeline]`); !strings.Contains(got, "Identifier +14155550123 verified by phone call: called +1 415 555 0123") {
		t.Errorf("the timeline does not record the call-back:\n%s", got)
	}
	b.noConsoleErrors()
}
