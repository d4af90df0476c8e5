package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	outbox "github.com/sendara/console/models/outbox"

	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sendara/console/handlers"
	"github.com/sendara/console/mailbox"
	"github.com/sendara/console/models/modeltest"
	requests "github.com/sendara/console/models/requests"
)

func (a *testApp) receive(t *testing.T, in requests.MailIntake) *requests.PrivacyRequest {
	t.Helper()
	in.Raw = []byte("From: " + in.FromAddr + "\r\nSubject: " + in.Subject + "\r\n\r\n" + in.Body)
	r, _, err := a.db.ReceiveMail(context.Background(), calendar.DefaultBusiness(), "US", in)
	if err != nil || r == nil {
		t.Fatalf("receive mail: %v", err)
	}
	return r
}

func TestStaffSeeASpoofedReferenceMergeDuplicatesAndAcceptFoundIdentifiers(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	officer := app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test")
	jane := app.receive(t, requests.MailIntake{MessageID: "a@example.com", FromAddr: "jane@example.com", Subject: "Delete my data", Body: "Please."})
	spoof := app.receive(t, requests.MailIntake{MessageID: "b@evil.example", FromAddr: "mallory@evil.example", Subject: "Re: " + jane.Reference,
		Reference: jane.Reference, Body: "Cancel that. Reach me at +1 415 555 0123."})
	again := app.receive(t, requests.MailIntake{MessageID: "c@example.com", FromAddr: "jane@example.com", Subject: "Delete my data (again)", Body: "Please!"})
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
	if got := dup.text(`[data-testid=request-status]`); got != requests.StatusReceived {
		t.Errorf("the duplicate is %s, want still received", got)
	}
	if dup.Doc.Find(`[data-testid=merge-form]`).Length() != 0 {
		t.Error("a merged request offers to merge again")
	}
	if got := c.get("/requests/" + jane.ID).text(`[data-testid=request-duplicates]`); !strings.Contains(got, again.Reference) {
		t.Errorf("the original's page does not list its duplicate: %q", got)
	}
	if r, _ := app.db.Request(context.Background(), modeltest.Staff, again.ID); r.Status == requests.StatusWithdrawn {
		t.Error("the duplicate was withdrawn")
	}
}

// boardAck is what the deadline board says about a request's
// acknowledgement: "" when it asks for none.
func boardAck(c *client, ref string) string {
	p := c.get("/requests/board")
	return strings.TrimSpace(p.Doc.Find(`[data-testid=board-card][data-reference="` + ref + `"] [data-testid=card-ack]`).Text())
}

func TestAnAcknowledgementCountsOnlyOnceItsMailIsSentOrMarkedSentByHand(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	officer := app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test")
	acme := app.customer("acme")
	admin := app.user(accounts.RoleCustomerAdmin, acme, "admin@acme.test")
	ctx := context.Background()
	r, err := app.db.CreateRequest(ctx, modeltest.Staff, calendar.DefaultBusiness(), requests.RequestInput{Type: "know", Regime: "ccpa",
		Channel: "manual", Requester: requests.Requester{Email: "jane@example.com"}}, "US")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.db.VerifyManually(ctx, modeltest.Staff, r.ID, "email_reply", "replied from the address on file"); err != nil {
		t.Fatal(err)
	}
	// No SMTP server: the sender holds the queued mail.
	if _, err := app.db.HoldQueuedMail(ctx, time.Now(), "no SMTP server is configured"); err != nil {
		t.Fatal(err)
	}
	c := app.client()
	c.login(officer)
	if got := boardAck(c, r.Reference); !strings.HasPrefix(got, "Acknowledge by "+r.AckDueOn.String()) {
		t.Fatalf("board says %q: a verified request whose acknowledgement is held is not acknowledged", got)
	}

	out := c.get("/outbox?status=held")
	held := app.outboxTo(t, "jane@example.com", outbox.MailAcknowledgement)
	copyText := out.text(`[data-testid=mail-copy]`)
	if !strings.Contains(copyText, "To: jane@example.com") || !strings.Contains(copyText, "Subject: "+held.Subject) || !strings.Contains(copyText, r.Reference) {
		t.Errorf("the held mail to copy: %q", copyText)
	}

	customer := app.client()
	customer.login(admin)
	customer.get("/outbox")
	if p := customer.post("/outbox/"+held.ID+"/mark-sent", nil); p.Status != http.StatusForbidden && p.Status != http.StatusNotFound {
		t.Errorf("a customer admin marked Sendara's mail sent: %d", p.Status)
	}
	if p := c.post("/outbox/"+held.ID+"/mark-sent", url.Values{"note": {"pasted into the shared mailbox"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("mark sent: %d", p.Status)
	}
	if got := boardAck(c, r.Reference); got != "" {
		t.Errorf("board still says %q after the acknowledgement was sent by hand", got)
	}
	if got := c.get("/outbox?status=sent").text(`[data-testid=marked-sent-by]`); !strings.Contains(got, "officer@sendara.test") {
		t.Errorf("the outbox does not say who sent it by hand: %q", got)
	}
	if p := c.post("/outbox/"+held.ID+"/mark-sent", nil); p.Status != http.StatusConflict {
		t.Errorf("marking a sent mail sent again: %d, want 409", p.Status)
	}
	if !strings.Contains(c.get("/requests/"+r.ID).text(`[data-testid=timeline]`), "marked sent by hand by officer@sendara.test: pasted into the shared mailbox") {
		t.Error("the request's timeline does not say who sent the acknowledgement by hand")
	}
	if !slices.Contains(app.auditActions(), "mail.mark_sent") {
		t.Error("marking sent by hand is not audited")
	}
}

func TestForgedSendersGetOneAcknowledgementAnHourAndUploadsAreLimited(t *testing.T) {
	t.Parallel()
	app := newTestAppWith(t, handlers.Config{MailLimits: mailbox.Limits{SenderEvery: time.Hour, SenderBurst: 3, GlobalEvery: time.Hour, GlobalBurst: 5}})
	officer := app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test")
	c := app.client()
	c.login(officer)
	c.get("/requests")
	upload := func(from, id string) *page {
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		_ = w.WriteField("_csrf", c.csrf)
		fw, _ := w.CreateFormFile("eml", "m.eml")
		fmt.Fprintf(fw, "From: =?utf-8?q?Victim=0D=0ABcc=3A_x=40evil=2Eexample?= <%s>\r\nSubject: delete my data\r\nMessage-ID: <%s>\r\n\r\nPlease delete my data.\r\n", from, id)
		w.Close()
		req, _ := http.NewRequest("POST", app.srv.URL+"/requests/upload", &body)
		req.Header.Set("Content-Type", w.FormDataContentType())
		return c.do(req)
	}
	steps := []struct {
		from string
		want int
	}{
		{"victim@example.com", http.StatusSeeOther},
		{"victim@example.com", http.StatusSeeOther},
		{"Victim@Example.com", http.StatusSeeOther},
		{"victim@example.com", http.StatusTooManyRequests}, // the sender's fourth within the hour
		{"other@example.com", http.StatusSeeOther},
		{"third@example.com", http.StatusSeeOther},
		{"fourth@example.com", http.StatusTooManyRequests}, // everyone's sixth
	}
	for i, st := range steps {
		p := upload(st.from, fmt.Sprintf("m%d@forged.example", i))
		if p.Status != st.want {
			t.Fatalf("upload %d from %s: %d, want %d", i+1, st.from, p.Status, st.want)
		}
		if st.want == http.StatusTooManyRequests && p.Header.Get("Retry-After") == "" {
			t.Errorf("upload %d: 429 without Retry-After", i+1)
		}
	}
	rs, _ := app.db.RequestsByEmail(context.Background(), modeltest.Staff, "victim@example.com")
	if len(rs) != 3 {
		t.Fatalf("%d requests from the victim's address, want 3", len(rs))
	}
	acks, _ := app.db.Outbox(context.Background(), modeltest.Staff, outbox.OutboxFilter{Kind: outbox.MailAcknowledgement})
	var queued, held int
	for _, m := range acks {
		if m.ToAddr != "victim@example.com" {
			continue
		}
		switch m.Status {
		case outbox.MailQueued:
			queued++
			if strings.Contains(m.BodyText, "\nBcc") || !strings.Contains(m.BodyText, "Victim Bcc: x@evil.example") {
				t.Errorf("the acknowledgement's greeting carries the name's line break: %q", m.BodyText)
			}
		case outbox.MailHeld:
			held++
			if !strings.Contains(m.LastError, "less than an hour ago") {
				t.Errorf("a held acknowledgement does not say why: %q", m.LastError)
			}
		}
	}
	if queued != 1 || held != 2 {
		t.Errorf("acknowledgements to the forged sender: %d to send, %d held; want 1 and 2", queued, held)
	}
	for _, r := range rs {
		if r.RequesterName != "Victim Bcc: x@evil.example" {
			t.Errorf("requester name %q, want the encoded name without its line break", r.RequesterName)
		}
	}
}
