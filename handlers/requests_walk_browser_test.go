package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/sendara/console/models/modeltest"
	requests "github.com/sendara/console/models/requests"
)

// requestsSignedInOfficer opens a browser signed in as a privacy officer.
func requestsSignedInOfficer(t *testing.T, app *testApp) *browser {
	t.Helper()
	officer := app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test")
	b := newBrowser(t, app)
	b.signedIn(officer, "")
	return b
}

// Staff ask the requester of a GDPR request for what they need: the page
// and the deadline board show the clock stopped; the requester's mail on
// the thread restarts it, with the due date moved by the days it stood.
func TestBrowserAskingTheRequesterStopsTheClockUntilTheirAnswerArrives(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	r, err := app.db.CreateRequest(ctx, modeltest.Staff, calendar.DefaultBusiness(), requests.RequestInput{Type: calendar.TypeAccess, Regime: "gdpr",
		Channel: "manual", Requester: requests.Requester{Name: "Jane Doe", Email: "jane@example.com"}}, "US")
	if err != nil {
		t.Fatal(err)
	}
	b := requestsSignedInOfficer(t, app)
	page := "/requests/" + r.ID
	b.do(chromedp.Navigate(b.base+page), chromedp.WaitVisible(chromedp.CSS(`[data-testid=ask-form]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=ask-form] textarea[name=question]`), "Which phone number did our texts reach?"))
	b.submitForm(`[data-testid=ask-form]`)
	if got := b.text(`[data-testid=request-status]`); got != "waiting on the requester (clock stopped)" {
		t.Fatalf("status after asking: %q", got)
	}
	if got := b.text(`[data-testid=clock]`); !strings.Contains(got, "stopped since") {
		t.Errorf("the clock reads %q", got)
	}
	if got := b.text(`[data-testid=due-on]`); !strings.Contains(got, "clock stopped") {
		t.Errorf("the due date does not say the clock stopped: %q", got)
	}
	card := `[data-testid=board-card][data-reference="` + r.Reference + `"]`
	b.do(chromedp.Navigate(b.base+"/requests/board"), chromedp.WaitVisible(chromedp.CSS(card)))
	if got := b.text(card + ` [data-testid=card-paused]`); !strings.Contains(got, "waiting on the requester since") {
		t.Errorf("the board card reads %q", got)
	}

	// Three days pass (the clock stopped at noon, business time, three
	// calendar days ago); then the answer arrives on the thread.
	loc := calendar.DefaultBusiness().Loc
	now := time.Now().In(loc)
	pausedAt := time.Date(now.Year(), now.Month(), now.Day()-3, 12, 0, 0, 0, loc).UTC()
	if err := app.db.Gorm.Exec("UPDATE privacy_requests SET paused_at = ? WHERE id = ?", pausedAt, r.ID).Error; err != nil {
		t.Fatal(err)
	}
	if _, _, err := app.db.ReceiveMail(ctx, calendar.DefaultBusiness(), "US", requests.MailIntake{MessageID: "answer@example.com", FromName: "Jane Doe",
		FromAddr: "jane@example.com", Subject: "Re: your privacy request " + r.Reference, Body: "It was +1 415 555 0123.", Reference: r.Reference,
		Raw: []byte("From: jane@example.com\r\nSubject: Re: " + r.Reference + "\r\n\r\nIt was +1 415 555 0123.\r\n"), ReceivedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	due := r.DueOn
	b.do(chromedp.Navigate(b.base+page), chromedp.WaitVisible(chromedp.CSS(`[data-testid=request-status]`)))
	if got := b.text(`[data-testid=request-status]`); got != "received" {
		t.Errorf("status after the answer: %q", got)
	}
	if got := b.text(`[data-testid=clock]`); !strings.Contains(got, "stopped 3 day(s)") {
		t.Errorf("the clock after the answer reads %q", got)
	}
	if got, want := b.text(`[data-testid=due-on]`), due.AddDays(3).String(); !strings.Contains(got, want) {
		t.Errorf("due %q, want %s (moved by the 3 days paused)", got, want)
	}
	if got := b.text(`[data-testid=timeline]`); !strings.Contains(got, "requester answered (clock restarted)") {
		t.Errorf("the timeline does not say the clock restarted:\n%s", got)
	}
	b.do(chromedp.Navigate(b.base+"/requests/board"), chromedp.WaitVisible(chromedp.CSS(card)))
	if b.eval(`!!document.querySelector('` + card + ` [data-testid=card-paused]')`) {
		t.Error("the board still shows the clock stopped")
	}
	if got := b.text(card + ` [data-testid=card-due]`); !strings.Contains(got, due.AddDays(3).String()) {
		t.Errorf("the board card's due date: %q", got)
	}
}

// A phone number in a request mail's signature is proposed; staff accept
// it and it becomes an unverified identifier of the subject.
func TestBrowserStaffAcceptAnIdentifierFoundInTheMail(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	body := "Please delete everything you hold about me.\n\nJane Doe\nMobile: (415) 555-0188\n"
	r, _, err := app.db.ReceiveMail(ctx, calendar.DefaultBusiness(), "US", requests.MailIntake{MessageID: "found@example.com", FromName: "Jane Doe",
		FromAddr: "jane@example.com", Subject: "Delete my data", Body: body,
		Raw: []byte("From: jane@example.com\r\nSubject: Delete my data\r\n\r\n" + body), ReceivedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	b := requestsSignedInOfficer(t, app)
	b.do(chromedp.Navigate(b.base+"/requests/"+r.ID), chromedp.WaitVisible(chromedp.CSS(`[data-testid=identifier-proposals]`)))
	if got := b.text(`[data-testid=identifier-proposals]`); !strings.Contains(got, "+14155550188") || !strings.Contains(got, "waiting for a decision") && !strings.Contains(got, "Add as subject identifier") {
		t.Fatalf("the proposals read %q", got)
	}
	if got := b.text(`[data-testid=subject-identifiers]`); strings.Contains(got, "+14155550188") {
		t.Fatalf("the found phone is an identifier before anyone accepted it: %q", got)
	}
	b.submitForm(`[data-testid=identifier-proposals] form`)
	if got := b.text(`[data-testid=identifier-proposals]`); !strings.Contains(got, "accepted by officer@sendara.test") {
		t.Errorf("the decision reads %q", got)
	}
	ids := b.text(`[data-testid=subject-identifiers]`)
	if !strings.Contains(ids, "+14155550188") || !strings.Contains(ids, "not verified") {
		t.Errorf("the accepted phone is not an unverified identifier: %q", ids)
	}
	if got := b.text(`[data-testid=timeline]`); !strings.Contains(got, "identifier added from mail") {
		t.Errorf("the timeline does not record the decision in words:\n%s", got)
	}
}

// An authorized agent's request: staff upload the agent's signed
// permission, accept it, and only then does the page offer routing.
func TestBrowserStaffCheckAnAgentsProofBeforeRouting(t *testing.T) {
	app := newTestApp(t)
	r, _ := app.proofsAgentRequest(t)
	file := t.TempDir() + "/permission.png"
	if err := os.WriteFile(file, proofsPNG, 0o600); err != nil {
		t.Fatal(err)
	}
	b := requestsSignedInOfficer(t, app)
	b.do(chromedp.Navigate(b.base+"/requests/"+r.ID), chromedp.WaitVisible(chromedp.CSS(`[data-testid=proof-waiting]`)))
	if got := b.text(`[data-testid=proof-waiting]`); !strings.Contains(got, "an authorized agent") {
		t.Errorf("the page reads %q", got)
	}
	if got := b.text(`[data-testid=next-step]`); !strings.Contains(got, "proof of authority") {
		t.Errorf("the next step reads %q", got)
	}
	if b.eval(`!!document.querySelector("[data-testid=route-form]")`) {
		t.Error("routing is offered before the proof was checked")
	}
	b.do(chromedp.SetUploadFiles(chromedp.CSS(`[data-testid=proof-upload-form] input[type=file]`), []string{file}))
	b.submitForm(`[data-testid=proof-upload-form]`)
	b.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid=proof-check-form]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=proof-check-form] input[name=note]`), "signed by Jane; ID matches"))
	b.submitForm(`[data-testid=proof-check-form]`)
	if got := b.text(`[data-testid=proof-check]`); !strings.Contains(got, "accepted by officer@sendara.test") {
		t.Errorf("the check reads %q", got)
	}
	if b.eval(`!!document.querySelector("[data-testid=proof-waiting]")`) {
		t.Error("the page still says routing waits for the proof")
	}
	if !b.eval(`!!document.querySelector("[data-testid=route-form]")`) {
		t.Error("routing is not offered once the proof was accepted")
	}
	if got := b.text(`[data-testid=timeline]`); !strings.Contains(got, "proof of authority uploaded") || !strings.Contains(got, "proof of authority checked") {
		t.Errorf("the timeline:\n%s", got)
	}
}
