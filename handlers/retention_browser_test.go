package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	consent "github.com/sendara/console/models/consent"

	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/sendara/console/models/modeltest"
	registers "github.com/sendara/console/models/registers"
)

func TestBrowserStaffAdminIsToldWhyTheRequestLogCannotBeShortenedAndPreviewsTheSweep(t *testing.T) {
	app := newTestApp(t)
	acme := app.customer("acme")
	admin := app.user(accounts.RoleStaffAdmin, nil, "admin@sendara.test")
	contact := app.contact(t, acme, "Jane Doe", "+14155550123")
	if _, err := app.db.RecordCommunication(context.Background(), modeltest.Staff, acme.ID, registers.CommunicationInput{ContactID: contact.ID,
		Channel: consent.ChannelIMessage, Direction: registers.DirectionOutbound, DeliveryStatus: "delivered", OccurredAt: time.Now().AddDate(-3, 0, 0)}); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t, app)
	b.signedIn(admin, "/retention")
	b.navOffers("/retention")
	b.do(
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=retention-rules]`)),
		chromedp.SetValue(chromedp.CSS(`#days-closed_requests`), "400"),
		chromedp.Click(chromedp.CSS(`tr[data-category=closed_requests] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#err-days`)),
	)
	b.screenshot("refused")
	if got := b.text(`#err-days`); !strings.Contains(got, "at least 730 days") || !strings.Contains(got, "CCPA §7101") {
		t.Errorf("the refusal says %q", got)
	}
	b.do(
		chromedp.Click(chromedp.CSS(`[data-testid=preview]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=retention-preview]`)),
	)
	b.screenshot("preview")
	if got := b.text(`[data-testid=retention-preview] tr[data-category=communications]`); !strings.Contains(got, "Acme Inc") || !strings.Contains(got, "1") {
		t.Errorf("the preview shows %q", got)
	}
	// The refused rule is answered 422, which Chromium logs as a failed load.
	b.noConsoleErrors("status of 422")
}
