package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	customers "github.com/sendara/console/models/customers"

	outbox "github.com/sendara/console/models/outbox"

	requests "github.com/sendara/console/models/requests"

	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// A controller refuses in the browser (first without a reason, which keeps
// the form with the error beside it), another never answers, and staff can
// complete only by saying why; the requester's mail then tells the truth.
func TestBrowserCompletionIsTrueToWhatEachControllerDecided(t *testing.T) {
	app := newTestApp(t)
	acme, bright := app.customer("acme"), app.customer("bright")
	app.contact(t, acme, "Jane Doe", "+14155550123")
	app.contact(t, bright, "Jane Doe", "+14155550123")
	admin := app.user(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	officer := app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test")
	r := app.verifiedRequest(t, calendar.TypeErasure, "+14155550123")
	if _, err := app.db.Route(context.Background(), modeltest.Staff, calendar.DefaultBusiness(), r.ID, app.srv.URL+"/inbox"); err != nil {
		t.Fatal(err)
	}
	routing := app.outboxTo(t, "admin@acme.test", outbox.MailRouting).BodyText
	tasks, _ := app.db.Tasks(context.Background(), modeltest.Staff, r.ID)
	for _, want := range []string{"Please answer Sendara by: " + tasks[0].DueOn.String(), "The person must be answered by: " + r.DueOn.String()} {
		if !strings.Contains(routing, want) {
			t.Errorf("the routing mail lacks %q:\n%s", want, routing)
		}
	}

	b := newBrowser(t, app)
	b.signedIn(admin, "/inbox")
	b.navOffers("/inbox")
	b.do(
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=answer-form]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=answer-form] button[value=denied]`)),
	)
	b.waitFor(`!!document.querySelector("[data-testid=answer-form] .error") && !document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling")`)
	if got := b.text(`[data-testid=answer-form] .error`); !strings.Contains(got, "denial needs a reason") {
		t.Errorf("a denial without a reason says %q beside the form", got)
	}
	const reason = "we must keep her invoices for seven years"
	b.do(
		chromedp.SendKeys(chromedp.CSS(`[data-testid=answer-form] input[name=reason]`), reason),
		chromedp.Click(chromedp.CSS(`[data-testid=answer-form] button[value=denied]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=answered]`)),
	)
	if got := b.text(`[data-testid=answered]`); !strings.Contains(got, "denied") {
		t.Errorf("after denying: %q", got)
	}
	if ds := b.confirmed(); len(ds) == 0 || !strings.Contains(ds[0], "passed on to the person") {
		t.Errorf("the answer was sent without a confirmation saying what happens: %q", ds)
	}
	b.signOut()

	b.signedIn(officer, "/requests/"+r.ID)
	b.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid=status-form]`)))
	if got := b.text(`[data-testid=next-step]`); !strings.Contains(got, "wait for the controllers") {
		t.Errorf("next step with a controller pending: %q", got)
	}
	if b.eval(`!!document.querySelector("[data-testid=route-form], [data-testid=verify-form]")`) {
		t.Error("routing or verifying is offered on a request already with the controllers")
	}
	if got := b.text(`[data-testid=outcome-preview]`); !strings.Contains(got, "in part") || !strings.Contains(got, reason) {
		t.Errorf("the page does not say what completing would record: %q", got)
	}
	b.do(chromedp.SetValue(chromedp.CSS(`[data-testid=status-form] select[name=to]`), requests.StatusCompleted))
	b.do(chromedp.Click(chromedp.CSS(`[data-testid=status-form] button[type=submit]`)))
	b.waitFor(`!!document.querySelector(".error") && !document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling")`)
	if got := b.text(`main`); !strings.Contains(got, bright.Name+" has not answered yet") {
		t.Errorf("completing with Bright pending was not refused by name: %q", got)
	}
	const why = "Bright confirmed by phone that it holds nothing else"
	b.do(
		chromedp.SetValue(chromedp.CSS(`[data-testid=status-form] select[name=to]`), requests.StatusCompleted),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=status-form] input[name=override]`), why),
	)
	b.submitForm(`[data-testid=status-form]`)
	if got := b.text(`[data-testid=request-status]`); got != requests.StatusCompleted {
		t.Fatalf("status after the override: %q", got)
	}
	if ds := b.confirmed(); !strings.Contains(ds[len(ds)-1], "closes the request") {
		t.Errorf("completing did not first say what happens: %q", ds)
	}
	if tl := b.text(`[data-testid=timeline]`); !strings.Contains(tl, "Override: "+why) {
		t.Errorf("the timeline lacks the override:\n%s", tl)
	}
	b.screenshot("completed-in-part")
	got, _ := app.db.Request(context.Background(), modeltest.Staff, r.ID)
	if requests.OutcomeOf(got.Status, got.Outcome) != requests.OutcomeCompliedInPart {
		t.Errorf("recorded outcome %q, want complied in part", got.Outcome)
	}
	mail := app.outboxTo(t, "jane@example.com", outbox.MailCompletion).BodyText
	for _, want := range []string{acme.Name + " refused your request: " + reason, bright.Name + " has not answered"} {
		if !strings.Contains(mail, want) {
			t.Errorf("the completion mail lacks %q:\n%s", want, mail)
		}
	}
	b.noConsoleErrors("status of 422", "status of 409")
}

// The public form's "stop contacting me" suppresses at once, and the
// thank-you page says so truthfully.
func TestBrowserAStopRequestFromThePublicFormStopsSendingAtOnce(t *testing.T) {
	app := newTestApp(t)
	acme, bright := app.customer("acme"), app.customer("bright")
	app.contact(t, acme, "Jane Doe", "+14155550123")
	app.contact(t, bright, "Jane", "jane@example.com")
	b := newBrowser(t, app)
	b.do(
		chromedp.Navigate(b.base+"/privacy-request"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=public-request-form]`)),
		chromedp.SetValue(chromedp.CSS(`select[name=want]`), calendar.TypeObjection),
		chromedp.SetValue(chromedp.CSS(`select[name=where]`), calendar.RegimeCCPA),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), "jane@example.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name=phone]`), "415 555 0123"),
		chromedp.Click(chromedp.CSS(`[data-testid=public-request-form] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=public-request-sent]`)),
	)
	if got := b.text(`[data-testid=public-request-stopped]`); !strings.Contains(got, "already stopped") {
		t.Errorf("the thank-you page does not say sending stopped: %q", got)
	}
	for _, at := range []struct {
		c  *customers.Customer
		id store.Identifier
	}{{acme, store.Identifier{Kind: store.KindPhone, Value: "+14155550123"}}, {bright, store.Identifier{Kind: store.KindEmail, Value: "jane@example.com"}}} {
		s, err := app.db.CheckSuppression(context.Background(), at.c.ID, at.id, "")
		if err != nil || !s.Suppressed {
			t.Errorf("%s right after the form: %+v, %v; want suppressed", at.c.Slug, s, err)
		}
	}
	b.noConsoleErrors()
}
