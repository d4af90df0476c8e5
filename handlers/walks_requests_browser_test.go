package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	outbox "github.com/sendara/console/models/outbox"

	"context"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/sendara/console/models/modeltest"
	requests "github.com/sendara/console/models/requests"
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
	officer := app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test")

	b := newBrowser(t, app)
	b.do(
		chromedp.Navigate(b.base+"/privacy-request"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=public-request-form]`)),
		chromedp.SetValue(chromedp.CSS(`select[name=want]`), calendar.TypeAccess),
		chromedp.SetValue(chromedp.CSS(`select[name=where]`), calendar.RegimeCCPA),
		chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "Jane Doe"),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), "jane@example.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name=phone]`), "415 555 0123"),
		chromedp.Click(chromedp.CSS(`[data-testid=public-request-form] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=public-request-sent]`)),
	)
	link := regexp.MustCompile(`/privacy-request/confirm/[A-Za-z0-9_-]+`).FindString(app.outboxTo(t, "jane@example.com", outbox.MailVerification).BodyText)
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

	b.signedIn(officer, "/requests/"+rs[0].ID)
	b.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid=subject-identifiers]`)))
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

// walksUploadEML uploads a message through the request list's ".eml"
// form and waits for the page the upload leads to.
func walksUploadEML(b *browser, raw string) {
	b.t.Helper()
	file := b.t.TempDir() + "/message.eml"
	if err := os.WriteFile(file, []byte(raw), 0o600); err != nil {
		b.t.Fatal(err)
	}
	b.do(
		chromedp.Navigate(b.base+"/requests"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=eml-upload]`)),
		chromedp.SetUploadFiles(chromedp.CSS(`[data-testid=eml-upload] input[type=file]`), []string{file}),
	)
	b.submitForm(`[data-testid=eml-upload]`)
}

// walksMetric reads one cell of this year's §7102 metrics on /reports.
func walksMetric(b *browser, row, col string) string {
	b.t.Helper()
	year := strconv.Itoa(calendar.TodayIn(calendar.DefaultBusiness().Loc).Year)
	b.do(chromedp.Navigate(b.base+"/reports?year="+year), chromedp.WaitVisible(chromedp.CSS(`[data-testid=metrics]`)))
	return b.text(`[data-testid=metrics] tr[data-type="` + row + `"] td[data-col="` + col + `"]`)
}

// A reply from another address joins its request by the Message-ID of the
// console's acknowledgement; a stranger naming that request's reference
// opens a request of its own, marked as mentioning it; staff merge a
// second request of the same person into the first after a confirmation,
// and the §7102 metrics count the two once.
func TestBrowserWalksRepliesThreadAndADuplicateIsMergedAndCountedOnce(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	newRequest := func(channel string) *requests.PrivacyRequest {
		r, err := app.db.CreateRequest(ctx, modeltest.Staff, calendar.DefaultBusiness(), requests.RequestInput{Type: calendar.TypeErasure, Regime: calendar.RegimeCCPA,
			Channel: channel, Requester: requests.Requester{Name: "Jane Doe", Email: "jane@example.com"}}, "US")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	first := newRequest("email")
	acks, err := app.db.Outbox(ctx, modeltest.Staff, outbox.OutboxFilter{Kind: outbox.MailAcknowledgement, RequestID: first.ID})
	if err != nil || len(acks) != 1 {
		t.Fatalf("acknowledgements of %s: %d, %v", first.Reference, len(acks), err)
	}
	// The sender hands the acknowledgement over under its own Message-ID.
	ackID := acks[0].ID + "@sendara.example"
	claimed, err := app.db.ClaimOutbox(ctx, time.Now(), time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	for i := range claimed {
		if claimed[i].ID == acks[0].ID {
			if err := app.db.MarkMailSent(ctx, &claimed[i], ackID, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	second := newRequest("web_form")

	b := requestsSignedInOfficer(t, app)
	if got := walksMetric(b, calendar.TypeDelete, "received"); got != "2" {
		t.Fatalf("before the merge the metrics count %s deletion requests, want 2", got)
	}

	// Jane answers the acknowledgement from her work address; the subject
	// lost the reference, the In-Reply-To names the console's mail.
	walksUploadEML(b, "From: Jane Doe <jane.doe@work.example>\r\nTo: privacy@sendara.example\r\nSubject: Re: your mail\r\n"+
		"Message-ID: <walks-reply@work.example>\r\nIn-Reply-To: <"+ackID+">\r\n\r\nIt is me, from my work address.\r\n")
	if got := b.text(`.flash`); !strings.Contains(got, "Message added to "+first.Reference) {
		t.Errorf("after the reply's upload the page says %q", got)
	}
	if p := b.path(); p != "/requests/"+first.ID {
		t.Errorf("the reply led to %s, want %s's page", p, first.Reference)
	}
	if got := b.text(`[data-testid=request-mails]`); !strings.Contains(got, "jane.doe@work.example") || !strings.Contains(got, "Re: your mail") {
		t.Errorf("the thread of %s does not show the reply: %q", first.Reference, got)
	}

	// A stranger puts the reference in a subject.
	walksUploadEML(b, "From: Mallory <mallory@evil.example>\r\nTo: privacy@sendara.example\r\nSubject: Re: "+first.Reference+"\r\n"+
		"Message-ID: <walks-mallory@evil.example>\r\n\r\nPlease withdraw this request.\r\n")
	if got := b.text(`.flash`); !strings.Contains(got, "opened from the message") {
		t.Errorf("after the stranger's upload the page says %q", got)
	}
	if p := b.path(); p == "/requests/"+first.ID {
		t.Fatalf("a stranger's mail naming %s joined it", first.Reference)
	}
	if got := b.text(`[data-testid=request-mentions]`); !strings.HasPrefix(got, "Mentions "+first.Reference) {
		t.Errorf("the stranger's request is not marked as mentioning %s: %q", first.Reference, got)
	}

	// The web form request repeats the emailed one: merge it.
	b.do(chromedp.Navigate(b.base+"/requests/"+second.ID), chromedp.WaitVisible(chromedp.CSS(`[data-testid=merge-form]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=merge-form] input[name=into]`), first.Reference),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=merge-form] input[name=reason]`), "the same deletion, asked by mail and on the form"))
	statusBefore := b.text(`[data-testid=request-status]`)
	b.submitForm(`[data-testid=merge-form]`)
	if ds := b.confirmed(); len(ds) != 1 || !strings.Contains(ds[0], "count it only once") || !strings.Contains(ds[0], "cannot be undone") {
		t.Errorf("merging asked %q; want one confirmation saying it is counted once and cannot be undone", ds)
	}
	if got := b.text(`[data-testid=request-duplicate-of]`); !strings.Contains(got, "Duplicate of "+first.Reference) || !strings.Contains(got, "counted once") {
		t.Errorf("the duplicate's page says %q", got)
	}
	if got := b.text(`[data-testid=request-status]`); got != statusBefore {
		t.Errorf("merging changed the duplicate's status from %q to %q (it is not withdrawn)", statusBefore, got)
	}
	b.do(chromedp.Click(chromedp.CSS(`[data-testid=request-duplicate-of] a`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid=request-duplicates]`)))
	if got := b.text(`[data-testid=request-duplicates]`); !strings.Contains(got, second.Reference) {
		t.Errorf("%s's page lists the duplicates %q", first.Reference, got)
	}
	timeline := b.text(`[data-testid=timeline]`)
	for _, want := range []string{"Email from jane.doe@work.example", "A message from mallory@evil.example, who is not a party of this request",
		second.Reference + " merged into this request as a duplicate"} {
		if !strings.Contains(timeline, want) {
			t.Errorf("%s's timeline lacks %q:\n%s", first.Reference, want, timeline)
		}
	}
	if got := walksMetric(b, calendar.TypeDelete, "received"); got != "1" {
		t.Errorf("after the merge the metrics count %s deletion requests, want 1", got)
	}
	if got := b.text(`[data-testid=metrics] tr[data-type="total"] td[data-col="received"]`); got != "2" {
		t.Errorf("all requests received: %s, want 2 (the deletion once, the stranger's mail)", got)
	}
	b.noConsoleErrors()
}

// walksCodesOnPage returns words of the page's main text written as codes
// (with_controller, email_reply): a page should say them in words.
func walksCodesOnPage(b *browser) []string {
	b.t.Helper()
	codes, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`Array.from(new Set(document.querySelector("main").innerText.match(/\b[a-z]+(?:_[a-z]+)+\b/g) || []))`))
	if err != nil {
		b.t.Fatalf("read the page's words: %v", err)
	}
	return codes
}

// walksCaseState reads what the case page offers: its next steps, whether
// the verify and route forms are there, and the statuses it lets staff
// move to, as the select shows them.
func walksCaseState(b *browser) (next []string, verify, route bool, moves []string) {
	b.t.Helper()
	next, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("[data-testid=next-step]"), e => e.textContent.replace(/\s+/g, " ").trim())`))
	if err != nil {
		b.t.Fatal(err)
	}
	moves, err = chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("[data-testid=status-form] select[name=to] option"), o => o.textContent.trim())`))
	if err != nil {
		b.t.Fatal(err)
	}
	return next, b.eval(`!!document.querySelector("[data-testid=verify-form]")`), b.eval(`!!document.querySelector("[data-testid=route-form]")`), moves
}

// A request walked from receipt to a denial: in each state the page names
// one next step, offers only what that state allows, says statuses and
// methods in words, and asks before routing and before denying, saying
// what will happen.
func TestBrowserWalksTheCasePageLeadsFromStateToState(t *testing.T) {
	app := newTestApp(t)
	acme := app.customer("acme")
	app.contact(t, acme, "Jane Doe", "+14155550123")
	r, err := app.db.CreateRequest(context.Background(), modeltest.Staff, calendar.DefaultBusiness(), requests.RequestInput{Type: calendar.TypeErasure, Regime: calendar.RegimeCCPA,
		Channel: "manual", Identifiers: []string{"+14155550123"}, Requester: requests.Requester{Name: "Jane Doe", Email: "jane@example.com"}}, "US")
	if err != nil {
		t.Fatal(err)
	}
	b := requestsSignedInOfficer(t, app)
	b.do(chromedp.Navigate(b.base+"/requests/"+r.ID), chromedp.WaitVisible(chromedp.CSS(`[data-testid=request-actions]`)))
	check := func(state string, wantNext string, wantVerify, wantRoute bool, wantMoves ...string) {
		t.Helper()
		next, verify, route, moves := walksCaseState(b)
		if len(next) != 1 || !strings.Contains(next[0], wantNext) {
			t.Errorf("%s: next steps %q, want one saying %q", state, next, wantNext)
		}
		if verify != wantVerify || route != wantRoute {
			t.Errorf("%s: verifying offered %v, routing offered %v; want %v, %v", state, verify, route, wantVerify, wantRoute)
		}
		if !slices.Equal(moves, wantMoves) {
			t.Errorf("%s: the status choices read %q, want %q", state, moves, wantMoves)
		}
		if codes := walksCodesOnPage(b); len(codes) > 0 {
			t.Errorf("%s: the page shows codes instead of words: %q", state, codes)
		}
	}

	check("received", "Next step: verify the requester", true, false, "verifying the requester", "denied (reason required)", "withdrawn")
	groups, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('form[action$="/triage"] select[name=type] optgroup'), g => g.label)`))
	if err != nil || !slices.Equal(groups, []string{"GDPR and UK GDPR rights", "CCPA rights", "Other"}) {
		t.Errorf("the request types are grouped as %q (%v); want GDPR and CCPA rights apart", groups, err)
	}
	b.do(chromedp.SetValue(chromedp.CSS(`[data-testid=verify-form] select[name=method]`), "phone_call"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=verify-form] input[name=note]`), "called her back on the number she gave"))
	b.submitForm(`[data-testid=verify-form]`)
	check("verified", "Next step: search who holds the person, then route", false, true, "in progress (Sendara acts)", "denied (reason required)", "withdrawn")

	b.submitForm(`[data-testid=route-form]`)
	if ds := b.confirmed(); len(ds) != 1 || !strings.Contains(ds[0], "gets a task and an email") || !strings.Contains(ds[0], "cannot be undone") {
		t.Errorf("routing asked %q; want one confirmation saying what routing does", ds)
	}
	if got := b.text(`[data-testid=request-status]`); got != "with the controllers" {
		t.Fatalf("after routing the status reads %q", got)
	}
	check("with the controllers", "Next step: wait for the controllers", false, false,
		"in progress (Sendara acts)", "completed", "denied (reason required)", "withdrawn")

	b.do(chromedp.SetValue(chromedp.CSS(`[data-testid=status-form] select[name=to]`), requests.StatusDenied),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=status-form] input[name=note]`), "we cannot confirm the number is hers"))
	b.submitForm(`[data-testid=status-form]`)
	if ds := b.confirmed(); len(ds) != 2 || !strings.Contains(ds[1], "closes the request and mails the requester") {
		t.Errorf("denying asked %q; want a confirmation saying it closes the request and mails the requester", ds)
	}
	if got := b.text(`[data-testid=request-status]`); got != "denied (reason required)" && got != "denied" {
		t.Fatalf("after denying the status reads %q", got)
	}
	next, _, _, _ := walksCaseState(b)
	if len(next) != 1 || !strings.Contains(next[0], "none: the request is denied") {
		t.Errorf("closed: next steps %q", next)
	}
	if b.eval(`!!document.querySelector("[data-testid=request-actions], [data-testid=identifier-edit]")`) {
		t.Error("a denied request still offers actions")
	}
	if codes := walksCodesOnPage(b); len(codes) > 0 {
		t.Errorf("denied: the page shows codes instead of words: %q", codes)
	}
	b.noConsoleErrors()
}
