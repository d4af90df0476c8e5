package handlers_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	accounts "github.com/sendara/console/models/accounts"
)

// An officer opens an incident discovered 30 hours ago, sees its notice to
// the affected customer overdue, sends it, and the page then says when the
// customer was told.
func TestBrowserOfficerSendsAnOverdueBreachNotice(t *testing.T) {
	app := newTestApp(t)
	acme := app.customer("acme")
	app.user(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	officer := app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test")
	inc := lifecycleIncident(t, app, acme)
	if err := app.db.Gorm.Table("incident_customers").Where("incident_id = ?", inc.ID).
		Update("notice_due_at", inc.DiscoveredAt.Add(-6*time.Hour)).Error; err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t, app)
	b.signedIn(officer, "/incidents")
	b.navOffers("/incidents")
	b.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid=incidents]`)))
	if got := b.text(`[data-testid=overdue]`); got != "1 overdue" {
		t.Errorf("the register says %q, want 1 overdue", got)
	}
	b.do(
		chromedp.Click(chromedp.CSS(`tr[data-reference="`+inc.Reference+`"] a`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=incident-customers]`)),
	)
	if got := b.text(`[data-testid=notice-state]`); !strings.HasPrefix(got, "OVERDUE") {
		t.Errorf("notice state %q, want OVERDUE", got)
	}
	b.do(
		chromedp.Click(chromedp.CSS(`[data-testid=send-notice]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`[data-testid=send-notice]`)),
	)
	b.screenshot("notice-sent")
	if got := b.text(`[data-testid=notice-state]`); !strings.HasPrefix(got, "told ") {
		t.Errorf("after sending, notice state %q", got)
	}
	if got := b.text(`[data-testid=incident-timeline]`); !strings.Contains(got, "Notice to Acme Inc queued to 1 address(es). It was due") {
		t.Errorf("timeline: %q", got)
	}
	b.noConsoleErrors()
}
