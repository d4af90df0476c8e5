package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
)

func (a *testApp) receive(t *testing.T, in models.MailIntake) *models.PrivacyRequest {
	t.Helper()
	in.Raw = []byte("From: " + in.FromAddr + "\r\nSubject: " + in.Subject + "\r\n\r\n" + in.Body)
	r, _, err := a.db.ReceiveMail(context.Background(), models.DefaultBusiness(), "US", in)
	if err != nil || r == nil {
		t.Fatalf("receive mail: %v", err)
	}
	return r
}

func TestStaffSeeASpoofedReferenceMergeDuplicatesAndAcceptFoundIdentifiers(t *testing.T) {
	app := newTestApp(t)
	officer := app.user(models.RolePrivacyOfficer, nil, "officer@sendara.test")
	jane := app.receive(t, models.MailIntake{MessageID: "a@example.com", FromAddr: "jane@example.com", Subject: "Delete my data", Body: "Please."})
	spoof := app.receive(t, models.MailIntake{MessageID: "b@evil.example", FromAddr: "mallory@evil.example", Subject: "Re: " + jane.Reference,
		Reference: jane.Reference, Body: "Cancel that. Reach me at +1 415 555 0123."})
	again := app.receive(t, models.MailIntake{MessageID: "c@example.com", FromAddr: "jane@example.com", Subject: "Delete my data (again)", Body: "Please!"})
	c := app.client()
	c.login(officer)

	page := c.get("/requests/" + spoof.ID)
	if got := page.text(`[data-testid=request-mentions]`); !strings.Contains(got, "Mentions "+jane.Reference) {
		t.Errorf("the spoofed request's page: %q, want it marked as mentioning %s", got, jane.Reference)
	}
	if got := c.get("/requests/" + jane.ID).text(`[data-testid=timeline]`); !strings.Contains(got, "not a party of this request") {
		t.Errorf("the named request's timeline does not tell: %q", got)
	}

	if got := page.text(`[data-testid=identifier-proposals]`); !strings.Contains(got, "+14155550123") {
		t.Fatalf("proposals: %q", got)
	}
	if p := c.post("/requests/"+spoof.ID+"/proposals", url.Values{"value": {"+14155550123"}, "decision": {"accept"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("accept: %d %s", p.Status, p.text(`.error`))
	}
	page = c.get("/requests/" + spoof.ID)
	if got := page.text(`[data-testid=request-facts]`); !strings.Contains(got, "+14155550123") {
		t.Errorf("the accepted identifier is not among the request's: %q", got)
	}
	if got := page.text(`[data-testid=identifier-proposals]`); !strings.Contains(got, "accepted by officer@sendara.test") {
		t.Errorf("the decision is not shown: %q", got)
	}
	if p := c.post("/requests/"+spoof.ID+"/proposals", url.Values{"value": {"+14155550123"}, "decision": {"dismiss"}}); p.Status != http.StatusUnprocessableEntity {
		t.Errorf("a second decision: %d, want 422", p.Status)
	}

	if p := c.post("/requests/"+again.ID+"/merge", url.Values{"into": {"PR-1999-000001"}}); p.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(p.text(`.error`), "there is no request PR-1999-000001") {
		t.Errorf("merge into an unknown reference: %d %q", p.Status, p.text(`.error`))
	}
	if p := c.post("/requests/"+again.ID+"/merge", url.Values{"into": {jane.Reference}, "reason": {"same ask twice"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("merge: %d", p.Status)
	}
	dup := c.get("/requests/" + again.ID)
	if got := dup.text(`[data-testid=request-duplicate-of]`); !strings.Contains(got, "Duplicate of "+jane.Reference) || !strings.Contains(got, "same ask twice") {
		t.Errorf("the duplicate's page: %q", got)
	}
	if got := dup.text(`[data-testid=request-status]`); got != models.StatusReceived {
		t.Errorf("the duplicate is %s, want still received", got)
	}
	if dup.Doc.Find(`[data-testid=merge-form]`).Length() != 0 {
		t.Error("a merged request offers to merge again")
	}
	if got := c.get("/requests/" + jane.ID).text(`[data-testid=request-duplicates]`); !strings.Contains(got, again.Reference) {
		t.Errorf("the original's page does not list its duplicate: %q", got)
	}
	if r, _ := app.db.Request(context.Background(), modeltest.Staff, again.ID); r.Status == models.StatusWithdrawn {
		t.Error("the duplicate was withdrawn")
	}
}
