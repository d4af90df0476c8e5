package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	consent "github.com/sendara/console/models/consent"
	"github.com/sendara/console/models/modeltest"
)

func TestBrowserContactListSearchAndPaging(t *testing.T) {
	app := newTestApp(t)
	acme := app.customer("acme")
	admin := app.user(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	for i := range 60 {
		app.contact(t, acme, fmt.Sprintf("Lead %02d", i), fmt.Sprintf("+1415555%04d", i))
	}
	app.contact(t, acme, "Jane Doe", "+14155559999", "jane@example.com")

	b := newBrowser(t, app)
	b.signedIn(admin, "/contacts")
	b.navOffers("/contacts")
	b.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid=contacts]`)))
	if !b.eval(`document.querySelectorAll("[data-testid=contacts] tbody tr").length === 50`) {
		t.Error("the first page does not show 50 contacts")
	}
	b.do(
		chromedp.Click(chromedp.CSS(`[data-testid=next-page]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`[data-testid=next-page]`)),
	)
	if !b.eval(`document.querySelectorAll("[data-testid=contacts] tbody tr").length === 11`) {
		t.Error("the second page does not show the remaining 11")
	}
	b.do(
		chromedp.Navigate(b.base+"/contacts"),
		chromedp.SendKeys(chromedp.CSS(`input[name=q]`), "(415) 555-9999"),
		chromedp.Submit(chromedp.CSS(`input[name=q]`)),
	)
	b.waitFor(`location.search.includes("q=") && document.readyState === "complete" && !!document.querySelector("[data-testid=contacts]")`)
	b.screenshot("search")
	if got := b.text(`[data-testid=contacts] tbody`); !strings.Contains(got, "Jane Doe") || strings.Contains(got, "Lead") {
		t.Errorf("search by a phone spelling shows %q", got)
	}
	b.noConsoleErrors()
}

func TestBrowserContactPageRecordsAnOptOutAndAnswersForAPointInTime(t *testing.T) {
	app := newTestApp(t)
	acme := app.customer("acme")
	agent := app.user(accounts.RoleCustomerAgent, acme, "agent@acme.test")
	jane := app.contact(t, acme, "Jane Doe", "+14155559999", "jane@example.com")
	if _, err := app.db.RecordConsent(context.Background(), modeltest.Staff, acme.ID, consent.ConsentInput{ContactID: jane.ID,
		Kind: consent.OptIn, Evidence: "signed form #12", OccurredAt: time.Now().Add(-48 * time.Hour)}, "US"); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t, app)
	b.signedIn(agent, "/contacts/"+jane.ID)
	b.do(
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=consent-form]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=consent-form] input[name=evidence]`), "asked us to stop on a call"),
		chromedp.Click(chromedp.CSS(`[data-testid=consent-form] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash`)),
	)
	b.screenshot("contact")
	if got := b.text(`[data-channel=imessage]`); !strings.Contains(got, "opted out") {
		t.Errorf("imessage state after the opt-out: %q", got)
	}
	if got := b.text(`[data-testid=consent-timeline]`); !strings.Contains(got, "asked us to stop on a call") || !strings.Contains(got, "signed form #12") {
		t.Errorf("timeline: %q", got)
	}
	// Ask about yesterday (opted in then) without leaving the page.
	yesterday := time.Now().Add(-24 * time.Hour).In(time.UTC).Format("2006-01-02T15:04:05")
	b.do(
		chromedp.Evaluate[chromedp.Void](`window.__same = true; document.querySelector("[data-testid=consent-at-form] input[name=at]").value = "`+yesterday+`"`),
		chromedp.Click(chromedp.CSS(`[data-testid=consent-at-form] button`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=consent-answer]`)),
	)
	if got := b.text(`[data-testid=consent-answer]`); !strings.Contains(got, "Yes: opted in.") || !strings.Contains(got, "signed form #12") {
		t.Errorf("point-in-time answer: %q", got)
	}
	if !b.eval(`window.__same === true`) {
		t.Error("asking reloaded the page")
	}
	b.noConsoleErrors()
}

func TestBrowserReviewQueueDecisionSwapsTheRow(t *testing.T) {
	app := newTestApp(t)
	acme := app.customer("acme")
	agent := app.user(accounts.RoleCustomerAgent, acme, "agent@acme.test")
	ctx := context.Background()
	for i, body := range []string{"I can't stop laughing", "can I cancel my appointment?"} {
		if _, err := app.db.RecordInbound(ctx, modeltest.Staff, acme.ID, fmt.Sprintf("+1415555010%d", i), body,
			time.Now().Add(time.Duration(i-2)*time.Hour), "US", calendar.Business{Loc: time.UTC, Calendar: calendar.DefaultCalendar()}); err != nil {
			t.Fatal(err)
		}
	}
	b := newBrowser(t, app)
	b.signedIn(agent, "/replies")
	b.navOffers("/replies")
	b.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid=review-queue]`)))
	if got := b.text(`[data-testid=review-queue] tbody tr`); !strings.Contains(got, "laughing") {
		t.Errorf("oldest first: the first row is %q", got)
	}
	b.do(
		chromedp.Evaluate[chromedp.Void](`window.__same = true`),
		chromedp.Click(chromedp.CSS(`[data-testid=review-queue] tbody tr:first-child button[value=not_opt_out]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=review-queue] tbody tr:first-child [data-testid=decided]`)),
	)
	b.screenshot("decided")
	if got := b.text(`[data-testid=review-queue] tbody tr:first-child [data-testid=decided]`); got != "not_opt_out by agent@acme.test" {
		t.Errorf("decided row shows %q", got)
	}
	if !b.eval(`window.__same === true`) {
		t.Error("the decision reloaded the page")
	}
	b.noConsoleErrors()
}
