package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	consent "github.com/sendara/console/models/consent"

	customers "github.com/sendara/console/models/customers"

	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/sendara/console/models/modeltest"
	registers "github.com/sendara/console/models/registers"
)

// walksAddSubprocessor puts a sub-processor on the list as staff would,
// starting when the objection window ends.
func walksAddSubprocessor(t *testing.T, app *testApp, name, location string) *registers.Subprocessor {
	t.Helper()
	ctx := context.Background()
	today := calendar.TodayIn(calendar.DefaultBusiness().Loc)
	days, err := app.db.ObjectionDays(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sp, _, err := app.db.AddSubprocessor(ctx, modeltest.Staff, registers.SubprocessorInput{Name: name, Purpose: "outbound mail delivery",
		Location: location, TransferSafeguard: "EU-US Data Privacy Framework", EffectiveOn: today.AddDays(days)}, today, app.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

// walksClickNav follows a link of the header's navigation and waits for
// the page's marker.
func walksClickNav(b *browser, href, marker string) {
	b.t.Helper()
	b.do(
		chromedp.WaitVisible(chromedp.CSS(`header nav a[href="`+href+`"]`)),
		chromedp.Click(chromedp.CSS(`header nav a[href="`+href+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(marker)),
	)
}

// A customer's admin objects to a newly announced sub-processor while the
// window is open; Sendara's officer then sees the objection, records an
// authority's demand the customer may not be told of, and the year's
// transparency count moves.
func TestBrowserWalksACustomerObjectsToASubprocessorAndAnOfficerRecordsADemand(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	acme := app.customer("acme")
	admin := app.user(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	officer := app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test")
	sp := walksAddSubprocessor(t, app, "Mailgun", "United States")
	today := calendar.TodayIn(calendar.DefaultBusiness().Loc)
	if _, err := app.db.RecordDisclosure(ctx, modeltest.Staff, registers.DisclosureInput{ReceivedOn: today, Authority: "State attorney general",
		Kind: "subpoena"}, today); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t, app)
	b.signedIn(admin, "/subprocessors")
	b.navOffers("/subprocessors")
	b.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid=subprocessors]`)))
	row := `tr[data-name="Mailgun"]`
	if got := b.text(row + ` [data-testid=sp-state]`); got != "from "+sp.EffectiveOn.String() {
		t.Errorf("the admin sees Mailgun's state as %q, want from %s", got, sp.EffectiveOn)
	}
	if got := b.text(row); !strings.Contains(got, sp.ObjectionUntil.String()) {
		t.Errorf("the row does not say until when one may object: %q", got)
	}
	const why = "Our patients' data must stay in the EU."
	b.do(chromedp.SendKeys(chromedp.CSS(row+` [data-testid=object-form] input[name=reason]`), why))
	b.submitForm(row + ` [data-testid=object-form]`)
	if got := b.text(`.flash`); !strings.Contains(got, "Your objection was recorded") {
		t.Errorf("after objecting the page says %q", got)
	}
	if b.eval(`!!document.querySelector("[data-testid=object-form]")`) {
		t.Error("the form to object is still offered after objecting")
	}
	if got := b.text(`[data-testid=objections]`); !strings.Contains(got, "Mailgun") || !strings.Contains(got, why) {
		t.Errorf("the admin's objections read %q", got)
	}
	if b.eval(`!!document.querySelector('header nav a[href="/legal-disclosures"]')`) {
		t.Error("a customer admin is offered the legal disclosures register")
	}
	b.signOut()

	b.signedIn(officer, "/subprocessors")
	b.navOffers("/subprocessors")
	b.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid=objections]`)))
	if got := b.text(`[data-testid=objections] tbody`); !strings.Contains(got, acme.Name) || !strings.Contains(got, "Mailgun") || !strings.Contains(got, why) {
		t.Errorf("staff see the objections %q", got)
	}

	walksClickNav(b, "/legal-disclosures", `[data-testid=transparency]`)
	year := `[data-testid=transparency] tr[data-year="` + strconv.Itoa(today.Year) + `"] td`
	cells := func() []string {
		t.Helper()
		got, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('`+year+`'), td => td.textContent.trim())`))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	// Year, received, disclosed, nothing disclosed, told, not told.
	if got := cells(); strings.Join(got, " ") != strconv.Itoa(today.Year)+" 1 0 1 0 0" {
		t.Errorf("before: this year's transparency row %q", got)
	}
	b.do(
		chromedp.SetValue(chromedp.CSS(`[data-testid=disclosure-form] input[name=received_on]`), today.String()),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=disclosure-form] input[name=authority]`), "FBI field office"),
		chromedp.SetValue(chromedp.CSS(`[data-testid=disclosure-form] select[name=kind]`), "court_order"),
		chromedp.SetValue(chromedp.CSS(`[data-testid=disclosure-form] select[name=customer_id]`), acme.ID),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=disclosure-form] textarea[name=disclosed]`), "consent history of one number"),
		chromedp.SetValue(chromedp.CSS(`[data-testid=disclosure-form] input[name=disclosed_on]`), today.String()),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=disclosure-form] input[name=not_told_reason]`), "non-disclosure order, 18 U.S.C. 2705(b)"),
	)
	b.submitForm(`[data-testid=disclosure-form]`)
	if got := b.text(`.flash`); !strings.Contains(got, "Demand recorded") {
		t.Errorf("after recording the page says %q", got)
	}
	if got := cells(); strings.Join(got, " ") != strconv.Itoa(today.Year)+" 2 1 1 0 1" {
		t.Errorf("after: this year's transparency row %q, want 2 received, 1 disclosed, 1 not, 0 told, 1 not told", got)
	}
	if got := b.text(`[data-testid=disclosures]`); !strings.Contains(got, "FBI field office") || !strings.Contains(got, "court order") ||
		!strings.Contains(got, "not told: non-disclosure order") {
		t.Errorf("the register reads %q", got)
	}
	if codes := walksCodesOnPage(b); len(codes) > 0 {
		t.Errorf("the register shows codes instead of words: %q", codes)
	}
	b.noConsoleErrors()
}

// A customer's admin finds the message its pipeline sent after a person's
// opt-out (and not another customer's), with the CSV offered, then its
// Art. 30(2) record with the sub-processor in effect and its print view.
func TestBrowserWalksACustomerAdminSeesItsExposureAndItsArt30Record(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	acme, other := app.customer("acme"), app.customer("other")
	admin := app.user(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	optOut := time.Now().Add(-48 * time.Hour).UTC()
	for _, at := range []struct {
		c     *customers.Customer
		phone string
	}{{acme, "+14155550123"}, {other, "+14155550199"}} {
		if _, err := app.db.RecordConsent(ctx, modeltest.Staff, at.c.ID, consent.ConsentInput{To: at.phone, Kind: consent.OptOut,
			Channel: "all", Source: "api", OccurredAt: optOut}, "US"); err != nil {
			t.Fatal(err)
		}
		if _, err := app.db.RecordCommunications(ctx, modeltest.Staff, at.c.ID, []registers.CommunicationItem{
			{To: at.phone, Channel: "imessage", Direction: "outbound", DeliveryStatus: "delivered", OccurredAt: optOut.Add(time.Hour)},
			{To: at.phone, Channel: "imessage", Direction: "outbound", DeliveryStatus: "delivered", OccurredAt: optOut.Add(-time.Hour)},
		}, "US"); err != nil {
			t.Fatal(err)
		}
	}
	sp := walksAddSubprocessor(t, app, "Mailgun", "United States")
	// The window has passed: the sub-processor is in effect.
	today := calendar.TodayIn(calendar.DefaultBusiness().Loc)
	if err := app.db.Gorm.Model(&registers.Subprocessor{}).Where("id = ?", sp.ID).Update("effective_on", today.AddDays(-1)).Error; err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t, app)
	b.signedIn(admin, "/communications/sent-after-opt-out")
	b.navOffers("/communications/sent-after-opt-out")
	b.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid=sent-after-summary]`)))
	if got := b.text(`[data-testid=sent-after-summary]`); !strings.HasPrefix(got, "1 message(s) or call(s) after an opt-out, 0 of them late.") {
		t.Errorf("the summary reads %q", got)
	}
	rows := b.text(`[data-testid=sent-after-opt-out] tbody`)
	if !strings.Contains(rows, "+14155550123") || strings.Contains(rows, "+14155550199") || !strings.Contains(rows, "within the window") {
		t.Errorf("acme's exposure reads %q; want its own message, within the window, and no other customer's", rows)
	}
	csv, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`fetch(document.querySelector("[data-testid=sent-after-csv]").href).then(r => r.ok ? r.text() : "status " + r.status)`,
		chromedp.EvalAsValue, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(csv), "\n"); len(lines) != 2 || !strings.Contains(lines[1], "+14155550123") {
		t.Errorf("the offered CSV:\n%s", csv)
	}

	walksClickNav(b, "/processing-records", `[data-testid=record-categories]`)
	if got := b.text(`[data-testid=controller]`); got != acme.Name {
		t.Errorf("the record's controller is %q", got)
	}
	if got := b.text(`[data-testid=record-categories]`); !strings.Contains(got, "Communication records (metadata)") {
		t.Errorf("the categories read %q", got)
	}
	if got := b.eval(`Array.from(document.querySelectorAll("[data-testid=record-categories] tbody tr")).some(tr => tr.textContent.includes("Communication records") && tr.querySelector("td.num").textContent.trim() === "2")`); !got {
		t.Error("the record does not count acme's 2 communication records")
	}
	if got := b.text(`[data-testid=record-subprocessors]`); !strings.Contains(got, "Mailgun") {
		t.Errorf("the sub-processors in effect read %q", got)
	}
	if got := b.text(`[data-testid=record-transfers]`); !strings.Contains(got, "Mailgun (United States)") || !strings.Contains(got, "EU-US Data Privacy Framework") {
		t.Errorf("the transfers read %q", got)
	}
	b.do(chromedp.Click(chromedp.CSS(`[data-testid=records-print]`)))
	b.waitFor(`location.search.includes("view=print") && document.readyState === "complete" && !!document.querySelector("[data-testid=controller]")`)
	if b.eval(`!!document.querySelector("header nav")`) {
		t.Error("the print view carries the site's navigation")
	}
	if !b.eval(`Array.from(document.styleSheets).some(s => (s.href || "").endsWith("/static/css/records-print.css"))`) {
		t.Error("the print view does not load its print stylesheet")
	}
	if got := b.text(`[data-testid=controller]`); got != acme.Name {
		t.Errorf("the print view's controller is %q", got)
	}
	b.noConsoleErrors()
}
