package handlers_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	accounts "github.com/sendara/console/models/accounts"
)

func TestBrowserQueueFilterSaveAViewAndAssignInBulk(t *testing.T) {
	app := newTestApp(t)
	officer := app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test")
	colleague := app.user(accounts.RolePrivacyOfficer, nil, "colleague@sendara.test")
	app.user(accounts.RoleAuditor, nil, "auditor@sendara.test")
	access, del, _ := queueSeedRequests(t, app)

	b := newBrowser(t, app)
	b.signedIn(officer, "/requests")
	b.navOffers("/requests")
	b.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid=queue-filters]`)))
	// Auditors cannot be chosen as assignees.
	if b.eval(`[...document.querySelectorAll("[data-testid=bulk-assign] option")].some(o => o.textContent.includes("auditor@"))`) {
		t.Error("an auditor is offered as an assignee")
	}
	// Filter: CCPA deletions only.
	b.do(chromedp.SetValue(chromedp.CSS(`[data-testid=queue-filters] select[name=type]`), "delete"),
		chromedp.Click(chromedp.CSS(`[data-testid=queue-filters] button[type=submit]`)))
	b.waitFor(`document.querySelectorAll("[data-testid=requests] tbody tr").length === 1 && !document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added")`)
	if got := b.text(`[data-testid=requests] tbody`); !strings.Contains(got, del.Reference) || strings.Contains(got, access.Reference) {
		t.Fatalf("filtered list: %q", got)
	}
	// Save the filters as a view.
	b.do(chromedp.SendKeys(chromedp.CSS(`[data-testid=save-view] input[name=name]`), "CCPA deletes"))
	b.submitForm(`[data-testid=save-view]`)
	if got := b.text(`[data-testid=saved-views]`); !strings.Contains(got, "CCPA deletes") {
		t.Fatalf("saved views: %q", got)
	}
	// All open requests: select both and give them to the colleague.
	b.do(chromedp.Navigate(b.base+"/requests"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=bulk-assign]`)),
		chromedp.Click(chromedp.CSS(`input[name=ids][value="`+access.ID+`"]`)),
		chromedp.Click(chromedp.CSS(`input[name=ids][value="`+del.ID+`"]`)),
		chromedp.SetValue(chromedp.CSS(`[data-testid=bulk-assign] select[name=assignee]`), colleague.User.ID))
	b.submitForm(`[data-testid=bulk-assign]`)
	if got := b.text(`.flash`); !strings.Contains(got, "2 requests assigned to colleague@sendara.test") {
		t.Errorf("flash: %q", got)
	}
	// The saved view shows the deletion, now the colleague's.
	b.do(chromedp.Click(chromedp.CSS(`[data-testid=saved-views] a`)))
	b.waitFor(`document.querySelectorAll("[data-testid=requests] tbody tr").length === 1 && location.search.includes("type=delete")`)
	if got := b.text(`[data-testid=requests] tbody [data-testid=assignee]`); got != "colleague@sendara.test" {
		t.Errorf("assignee in the saved view: %q", got)
	}
	b.screenshot("queue")
	b.noConsoleErrors()
}
