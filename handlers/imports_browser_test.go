package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/sendara/console/jobs"
	accounts "github.com/sendara/console/models/accounts"
)

func TestBrowserCustomerAdminImportsOptOutsWithAPreviewAndAProgressReport(t *testing.T) {
	app := newTestApp(t)
	acme := app.customer("acme")
	admin := app.user(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	file := filepath.Join(t.TempDir(), "hubspot-export.csv")
	if err := os.WriteFile(file, []byte(hubspotExport), 0o600); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t, app)
	b.signedIn(admin, "/imports")
	b.navOffers("/imports")
	b.do(
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=import-form]`)),
		chromedp.SetUploadFiles(chromedp.CSS(`[data-testid=import-form] input[type=file]`), []string{file}),
		chromedp.Click(chromedp.CSS(`[data-testid=import-form] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=bad-rows]`)),
	)
	b.screenshot("preview")
	if got := b.text(`[data-testid=preview-summary]`); !strings.Contains(got, "3 will be imported") {
		t.Errorf("preview summary %q", got)
	}
	if got := b.text(`[data-testid=bad-rows] tbody`); !strings.Contains(got, "bob@example") || !strings.Contains(got, "has no phone number or email address") {
		t.Errorf("bad rows shown: %q", got)
	}
	if !b.eval(`[...document.querySelectorAll("[data-testid=bad-rows] tbody tr")].map(r => r.dataset.line).join() === "3,5"`) {
		t.Error("bad rows are not lines 3 and 5")
	}

	b.do(
		chromedp.Click(chromedp.CSS(`[data-testid=start-import]`)),
		chromedp.WaitVisible(chromedp.CSS(`#import-progress progress`)),
		chromedp.Evaluate[chromedp.Void](`window.__sameDocument = true`),
	)
	if got := b.text(`[data-testid=import-status]`); got != "queued" {
		t.Errorf("status right after starting = %q, want queued", got)
	}
	// The server's runner picks the job up; the page follows by polling.
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go jobs.NewRunner(app.db, jobs.Options{Region: "US", Location: time.UTC, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		BatchSize: 2, Poll: 50 * time.Millisecond}).Run(ctx)
	b.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid=import-report]`)))
	b.screenshot("report")
	if !b.eval(`window.__sameDocument === true`) {
		t.Error("the page reloaded; htmx should have swapped the progress in")
	}
	report := map[string]string{"import-status": "done", "report-applied": "3", "report-bad": "2", "report-created": "3", "import-processed": "5"}
	for id, want := range report {
		if got := b.text(`[data-testid=` + id + `]`); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	if !b.eval(`document.querySelector("#import-progress progress").value === 100`) {
		t.Error("the progress bar does not show 100%")
	}
	b.do(
		chromedp.Navigate(b.base+"/imports"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=import-row][data-status=done]`)),
	)
	b.screenshot("list")
	b.noConsoleErrors()
}
