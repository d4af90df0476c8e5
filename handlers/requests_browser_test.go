package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	outbox "github.com/sendara/console/models/outbox"

	"context"
	"net/smtp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/sendara/console/mailbox"
	"github.com/sendara/console/models/modeltest"
	requests "github.com/sendara/console/models/requests"
)

func (b *browser) signOut() {
	b.t.Helper()
	b.do(
		chromedp.Click(chromedp.CSS(`header form[action="/logout"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=login-form]`)),
	)
}

// submitForm clicks a form's submit button and waits for the page that
// answers it, whether htmx swaps it in (boosted forms) or the browser
// loads it: a marker put in the old page's content must be gone, so a flash
// message still on the old page cannot be mistaken for the new one, and
// htmx must have finished settling, so the next click finds live elements.
func (b *browser) submitForm(form string) {
	b.t.Helper()
	b.do(
		chromedp.Evaluate[chromedp.Void](`window.__loads = (window.__loads || 0) + 1; document.querySelector("main").insertAdjacentHTML("beforeend", "<i id=before-submit></i>")`),
		chromedp.Click(chromedp.CSS(form+` button[type=submit]`)),
	)
	b.waitFor(`!document.getElementById("before-submit") && document.readyState === "complete" && !!document.querySelector(".flash")` +
		` && !document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added")`)
}

// swappedWithoutReload reports whether the page was never reloaded since
// the first submitForm: boosted actions keep the same window.
func (b *browser) swappedWithoutReload() bool {
	return b.eval(`(window.__loads || 0) > 0`)
}

func TestBrowserStaffTakeAnEmailedRequestToCompletionWithTheControllersApproval(t *testing.T) {
	app := newTestApp(t)
	acme := app.customer("acme")
	app.contact(t, acme, "Jane Doe", "+14155550123", "jane@example.com")
	officer := app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test")
	admin := app.user(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	// A colleague completes: a TOTP code is accepted once, so one user
	// cannot sign in twice within one time step.
	colleague := app.user(accounts.RolePrivacyOfficer, nil, "colleague@sendara.test")

	// The request arrives by email, through a real SMTP exchange.
	srv, err := mailbox.NewServer("127.0.0.1:0", mailbox.SinkFunc(func(ctx context.Context, m *mailbox.Message) error {
		_, _, err := app.db.ReceiveMail(ctx, calendar.DefaultBusiness(), "US", requests.MailIntake{MessageID: m.MessageID, FromName: m.From.Name,
			FromAddr: m.From.Address, Subject: m.Subject, Body: m.TextBody, Reference: m.Reference, SuggestedType: m.SuggestedType, Raw: m.Raw, ReceivedAt: m.Date})
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	t.Cleanup(func() { _ = srv.Close(context.Background()) })
	msg := "From: Jane Doe <jane@example.com>\r\nTo: privacy@sendara.example\r\nSubject: Delete my data\r\nMessage-ID: <e2e@example.com>\r\n\r\nPlease delete my data, you texted me for Acme.\r\n"
	if err := smtp.SendMail(srv.Addr().String(), nil, "jane@example.com", []string{"privacy@sendara.example"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t, app)
	b.signedIn(officer, "/requests")
	b.navOffers("/requests")
	b.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid=requests]`)))
	if got := b.text(`[data-testid=requests] tbody`); !strings.Contains(got, "suggested: erasure") {
		t.Fatalf("the emailed request is not listed with its suggestion: %q", got)
	}
	b.do(
		chromedp.Click(chromedp.CSS(`[data-testid=requests] tbody a`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=request-actions]`)),
	)
	page := b.path()
	// A refused action (skipping verification without a reason) shows why.
	b.do(chromedp.Click(chromedp.CSS(`form[action$="/skip-verification"] button[type=submit]`)))
	b.waitFor(`!!document.querySelector(".error.banner") && document.querySelector(".error.banner").textContent.includes("needs a recorded reason")` +
		` && !document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added")`)
	// Triage: type (the suggestion is preselected) and regime.
	b.do(chromedp.SetValue(chromedp.CSS(`form[action$="/triage"] select[name=regime]`), "gdpr"))
	b.submitForm(`form[action$="/triage"]`)
	// Verify, then find who holds the person (htmx), then route.
	b.do(chromedp.SetValue(chromedp.CSS(`[data-testid=verify-form] select[name=method]`), "email_reply"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=verify-form] input[name=note]`), "wrote from the address on file"))
	b.submitForm(`[data-testid=verify-form]`)
	b.do(chromedp.Click(chromedp.CSS(`form[action$="/search"] button`)))
	b.waitFor(`!!document.querySelector("[data-testid=person-matches] li")`)
	if got := b.text(`[data-testid=person-matches]`); !strings.Contains(got, "Acme Inc") {
		t.Errorf("matches: %q", got)
	}
	b.submitForm(`[data-testid=route-form]`)
	if got := b.text(`[data-testid=request-status]`); got != "with the controllers" {
		t.Fatalf("after routing: %q", got)
	}
	if !b.swappedWithoutReload() {
		t.Error("the case page's actions reloaded the page; htmx should swap the answer in")
	}
	b.screenshot("routed")
	b.signOut()

	// The controller approves in "Requests from Sendara".
	b.signedIn(admin, "/inbox")
	b.navOffers("/inbox")
	b.do(
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=answer-form]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=answer-form] button[value=approved]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=answered]`)),
	)
	b.screenshot("approved")
	b.signOut()

	// Staff complete the request.
	b.signedIn(colleague, page)
	b.do(
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=status-form]`)),
		chromedp.SetValue(chromedp.CSS(`[data-testid=status-form] select[name=to]`), "completed"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=status-form] input[name=note]`), "erased at Acme's instruction"),
	)
	b.submitForm(`[data-testid=status-form]`)
	b.screenshot("completed")
	if got := b.text(`[data-testid=request-status]`); got != "completed" {
		t.Errorf("final status %q", got)
	}
	timeline := b.text(`[data-testid=timeline]`)
	for _, want := range []string{"Email from jane@example.com", "Type erasure, regime gdpr", "Verified by email reply", "Routed to Acme Inc", "Acme Inc approved", "Status in progress → completed"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("timeline lacks %q", want)
		}
	}
	if mails, _ := app.db.Outbox(context.Background(), modeltest.Staff, outbox.OutboxFilter{Kind: outbox.MailCompletion}); len(mails) != 1 {
		t.Errorf("%d completion mails queued, want 1", len(mails))
	}
	b.noConsoleErrors("status of 422")
}
