package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/sendara/console/models/modeltest"
	requests "github.com/sendara/console/models/requests"
)

// An officer writes to the requester from the case page, starting from
// the refusal template; the requester follows the link in the mail,
// reads the message and answers; the answer is on the case page.
func TestBrowserRequesterReadsStaffsMessageAndAnswersOnTheStatusPage(t *testing.T) {
	app := newTestApp(t)
	r, err := app.db.CreateRequest(context.Background(), modeltest.Staff, calendar.DefaultBusiness(), requests.RequestInput{Type: calendar.TypeAccess,
		Regime: "gdpr", Channel: "email", Requester: requests.Requester{Email: "jane@example.com", Name: "Jane Doe"}}, "US")
	if err != nil {
		t.Fatal(err)
	}
	officer := app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test")
	b := newBrowser(t, app)
	b.signedIn(officer, "/requests/"+r.ID)
	b.do(
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=write-form]`)),
		chromedp.Click(chromedp.CSS(`#write-to-requester a[href*="compose=refusal"]`)),
		chromedp.WaitReady(chromedp.CSS(`[data-testid=write-form] input[name=template][value=refusal]`)),
	)
	if !b.eval(`document.querySelector("[data-testid=write-form] textarea[name=body]").value.includes("[the reason]")`) {
		t.Fatal("the refusal template does not prefill the message with its placeholder")
	}
	b.do(
		chromedp.SetValue(chromedp.CSS(`[data-testid=write-form] textarea[name=body]`), "We hold no data about you under this address."),
		chromedp.Click(chromedp.CSS(`[data-testid=write-form] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=requester-message-out]`)),
	)
	token, _ := app.requesterLatestToken(t, r.ID, "jane@example.com")

	jane := openBrowser(t, app) // a window of its own: no session
	jane.do(
		chromedp.Navigate(jane.base+"/my-request/"+token),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=status-reply-form]`)),
	)
	if got := jane.text(`body`); !strings.Contains(got, r.Reference) || !strings.Contains(got, "We hold no data about you under this address.") {
		t.Fatalf("status page: %q", got)
	}
	jane.do(
		chromedp.SendKeys(chromedp.CSS(`[data-testid=status-reply-form] textarea[name=body]`), "Please try jane.doe@example.org too."),
		chromedp.Click(chromedp.CSS(`[data-testid=status-reply-form] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=status-notice]`)),
	)
	if got := jane.text(`body`); !strings.Contains(got, "Please try jane.doe@example.org too.") {
		t.Fatalf("the reply is not on the status page: %q", got)
	}
	b.do(
		chromedp.Navigate(b.base+"/requests/"+r.ID),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=requester-message-in]`)),
	)
	if got := b.text(`[data-testid=requester-message-in]`); !strings.Contains(got, "Please try jane.doe@example.org too.") {
		t.Fatalf("the case page shows %q", got)
	}
	b.noConsoleErrors()
	jane.noConsoleErrors()
}
