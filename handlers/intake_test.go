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
	"net/smtp"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sendara/console/mailbox"
	"github.com/sendara/console/models/modeltest"
	requests "github.com/sendara/console/models/requests"
)

// outboxTo returns the newest mail of kind queued to addr.
func (a *testApp) outboxTo(t *testing.T, addr, kind string) *outbox.OutboxMail {
	t.Helper()
	mails, err := a.db.Outbox(context.Background(), modeltest.Staff, outbox.OutboxFilter{Kind: kind, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for i := range mails {
		if mails[i].ToAddr == addr {
			return &mails[i]
		}
	}
	t.Fatalf("no %s mail to %s in the outbox", kind, addr)
	return nil
}

func TestPublicFormCreatesARequestVerifiedByTheEmailedLink(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := app.client()
	form := c.get("/privacy-request")
	if form.Status != 200 || form.Doc.Find(`input[name=website]`).Length() != 1 {
		t.Fatalf("form: %d", form.Status)
	}
	p := c.post("/privacy-request", url.Values{"want": {"erasure"}, "where": {"gdpr"}, "name": {"Jane"}, "email": {"Jane@Example.com"},
		"phone": {"+1 415 555 0123"}, "relationship": {"end_user"}, "business": {"Acme"}, "details": {"Delete me"}})
	ref := p.text(`[data-testid=public-request-sent] strong`)
	if p.Status != 200 || !strings.HasPrefix(ref, "PR-") {
		t.Fatalf("submit: %d %s", p.Status, p.Body)
	}
	rs, _ := app.db.RequestsByEmail(context.Background(), modeltest.Staff, "jane@example.com")
	if len(rs) != 1 || rs[0].Channel != "web_form" || rs[0].Status != requests.StatusVerifying || rs[0].VerifiedAt != nil {
		t.Fatalf("request %+v", rs)
	}
	if ids := rs[0].Identifiers(); len(ids) != 2 {
		t.Errorf("subject identifiers %v, want the email and the phone", ids)
	}
	mail := app.outboxTo(t, "jane@example.com", outbox.MailVerification)
	link := regexp.MustCompile(`/privacy-request/confirm/[A-Za-z0-9_-]+`).FindString(mail.BodyText)
	if link == "" {
		t.Fatalf("no confirmation link in %q", mail.BodyText)
	}
	app.outboxTo(t, "jane@example.com", outbox.MailAcknowledgement)
	// A mail scanner fetches the link (from its own client, twice): that
	// shows the confirm page and verifies nothing.
	scanner := app.client()
	for range 2 {
		if got := scanner.get(link); got.Status != 200 || got.Doc.Find(`[data-testid=public-request-confirm] button`).Length() != 1 ||
			!strings.Contains(got.Body, ref) {
			t.Fatalf("the link's page: %d", got.Status)
		}
	}
	if r, _ := app.db.Request(context.Background(), modeltest.Staff, rs[0].ID); r.VerifiedAt != nil || r.Status != requests.StatusVerifying {
		t.Fatalf("following the link verified the request: %s", r.Status)
	}
	if forged := c.post(link, url.Values{"_csrf": {"forged"}}); forged.Status != http.StatusForbidden {
		t.Errorf("a confirmation without the page's token: %d, want 403", forged.Status)
	}
	c.get(link)
	if got := c.post(link, nil); got.Status != 200 || got.text(`[data-testid=public-request-confirmed] strong`) != ref {
		t.Fatalf("confirm: %d", got.Status)
	}
	if again := c.get(link); again.Status != http.StatusNotFound {
		t.Errorf("a used link: %d, want 404", again.Status)
	}
	if again := c.post(link, nil); again.Status != http.StatusNotFound {
		t.Errorf("a used link confirmed again: %d, want 404", again.Status)
	}
	r, _ := app.db.Request(context.Background(), modeltest.Staff, rs[0].ID)
	if r.Status != requests.StatusVerified || r.VerificationMethod != "email_link" {
		t.Errorf("after the link: %s by %s", r.Status, r.VerificationMethod)
	}
}

func TestPublicFormHoneypotAndLimits(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := app.client()
	c.get("/privacy-request")
	bot := c.post("/privacy-request", url.Values{"want": {"access"}, "where": {"other"}, "email": {"bot@example.com"}, "website": {"http://spam"}})
	if bot.Status != 200 {
		t.Errorf("honeypot: %d, want the same thanks", bot.Status)
	}
	if rs, _ := app.db.RequestsByEmail(context.Background(), modeltest.Staff, "bot@example.com"); len(rs) != 0 {
		t.Error("a honeypot submission was stored")
	}
	bad := c.post("/privacy-request", url.Values{"want": {"access"}, "where": {"other"}, "email": {"not an email"}})
	if bad.Status != http.StatusUnprocessableEntity || !strings.Contains(bad.Body, "is not a valid email address") {
		t.Errorf("a bad email: %d", bad.Status)
	}
	var last *page
	for i := range 6 {
		last = c.post("/privacy-request", url.Values{"want": {"access"}, "where": {"other"}, "email": {fmt.Sprintf("p%d@example.com", i)}})
	}
	if last.Status != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
		t.Errorf("the eighth submission from one address: %d", last.Status)
	}
}

func TestMailToThePrivacyMailboxOpensARequestAndJoinsItsThread(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	sink := mailbox.SinkFunc(func(ctx context.Context, m *mailbox.Message) error {
		_, _, err := app.db.ReceiveMail(ctx, calendar.DefaultBusiness(), "US", requests.MailIntake{MessageID: m.MessageID, InReplyTo: m.InReplyTo, References: m.References, FromName: m.From.Name,
			FromAddr: m.From.Address, Subject: m.Subject, Body: m.TextBody, Reference: m.Reference, SuggestedType: m.SuggestedType, Raw: m.Raw, ReceivedAt: m.Date})
		return err
	})
	srv, err := mailbox.NewServer("127.0.0.1:0", sink)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	t.Cleanup(func() { _ = srv.Close(context.Background()) })
	sendAs := func(from, id, subject, extra, body string) {
		t.Helper()
		msg := "From: " + from + "\r\nTo: privacy@sendara.example\r\nSubject: " + subject +
			"\r\nMessage-ID: <" + id + "@example.com>\r\nDate: Mon, 23 Nov 2026 10:00:00 -0800\r\n" + extra + "\r\n" + body + "\r\n"
		if err := smtp.SendMail(srv.Addr().String(), nil, "bounces@example.com", []string{"privacy@sendara.example"}, []byte(msg)); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	send := func(id, subject, body string) {
		t.Helper()
		sendAs("Jane Doe <Jane@Example.com>", id, subject, "", body)
	}
	send("first", "Please delete my data", "Hi, please delete my data. You texted me from Acme.")
	send("first", "Please delete my data", "Hi, please delete my data. You texted me from Acme.") // an MTA retry
	rs, _ := app.db.RequestsByEmail(context.Background(), modeltest.Staff, "jane@example.com")
	if len(rs) != 1 {
		t.Fatalf("%d requests, want one (the retry is the same message)", len(rs))
	}
	r := rs[0]
	if r.Channel != "email" || r.Type != nil || r.SuggestedType != calendar.TypeErasure || r.Regime != calendar.RegimeOther {
		t.Errorf("request: channel %s type %v suggested %s regime %s", r.Channel, r.Type, r.SuggestedType, r.Regime)
	}
	send("second", "Re: "+r.Reference, "Here is my phone: +1 415 555 0123")
	if rs, _ := app.db.RequestsByEmail(context.Background(), modeltest.Staff, "jane@example.com"); len(rs) != 1 {
		t.Errorf("a reply with the reference opened a new request")
	}
	timeline, _ := app.db.Timeline(context.Background(), &r)
	var in int
	for _, e := range timeline {
		if e.Kind == "email_in" {
			in++
		}
	}
	if in != 2 {
		t.Errorf("%d email_in events on the timeline, want 2", in)
	}
	ack := app.outboxTo(t, "jane@example.com", outbox.MailAcknowledgement)

	// The acknowledgement goes out; Jane answers it from her work address,
	// her mail program naming it in In-Reply-To and the subject losing the
	// reference: the reply joins by the console's own Message-ID.
	claimed, _ := app.db.ClaimOutbox(context.Background(), time.Now(), time.Minute, 10)
	for i := range claimed {
		if claimed[i].ID == ack.ID {
			if err := app.db.MarkMailSent(context.Background(), &claimed[i], "ack-1@sendara.example", time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	sendAs("Jane <jane.doe@work.example>", "third", "Re: your mail", "In-Reply-To: <ack-1@sendara.example>\r\n", "It is me.")
	// Someone else puts Jane's reference in a subject: that opens a request
	// of its own, marked as mentioning hers.
	sendAs("Mallory <mallory@evil.example>", "fourth", "Re: "+r.Reference, "", "Withdraw it.")
	if got := len(app.inboundOf(t, r.ID)); got != 3 {
		t.Errorf("%s holds %d messages, want 3 (the reply by In-Reply-To joined, the forged subject did not)", r.Reference, got)
	}
	forged, _ := app.db.RequestsByEmail(context.Background(), modeltest.Staff, "mallory@evil.example")
	if len(forged) != 1 || forged[0].ID == r.ID {
		t.Fatalf("the forged subject's requests: %+v", forged)
	}
	if in := app.inboundOf(t, forged[0].ID); len(in) != 1 || in[0].MentionsReference != r.Reference {
		t.Errorf("the forged subject's request is not marked as mentioning %s: %+v", r.Reference, in)
	}
}

func (a *testApp) inboundOf(t *testing.T, requestID string) []outbox.InboundMail {
	t.Helper()
	in, err := a.db.InboundMails(context.Background(), modeltest.Staff, outbox.InboundFilter{RequestID: requestID})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func TestStaffUploadAnEMLAndSeeTheOutbox(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	officer := app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test")
	c := app.client()
	c.login(officer)
	c.get("/requests")
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("_csrf", c.csrf)
	fw, _ := w.CreateFormFile("eml", "request.eml")
	fmt.Fprint(fw, "From: Sam <sam@example.org>\r\nSubject: What data do you have about me?\r\nMessage-ID: <x1@example.org>\r\n"+
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nPlease send me a copy.\r\n"+
		"--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"id-card.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n")
	w.Close()
	req, _ := http.NewRequest("POST", app.srv.URL+"/requests/upload", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	p := c.do(req)
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location(), "/requests/") {
		t.Fatalf("upload: %d %s", p.Status, p.Body)
	}
	page := c.get(p.Location())
	if !strings.Contains(page.text(`[data-testid=request-facts]`), "suggested: access") {
		t.Errorf("suggested type not shown: %q", page.text(`[data-testid=request-facts]`))
	}
	mails := page.text(`[data-testid=request-mails]`)
	if !strings.Contains(mails, "id-card.pdf") || !strings.Contains(mails, "acknowledgement") {
		t.Errorf("the case's emails: %q", mails)
	}
	rawLink, _ := page.Doc.Find(`[data-testid=request-mails] a`).Attr("href")
	if raw := c.get(rawLink); raw.Status != 200 || !strings.Contains(raw.Body, "Message-ID: <x1@example.org>") {
		t.Errorf("raw message: %d", raw.Status)
	}
	if acts := strings.Join(app.auditActions(), " "); !strings.Contains(acts, "mail.view_raw") {
		t.Error("reading the raw message was not audited")
	}
	out := c.get("/outbox")
	if out.Status != 200 || !strings.Contains(out.text(`[data-testid=outbox]`), "sam@example.org") {
		t.Errorf("outbox: %d %q", out.Status, out.text(`[data-testid=outbox]`))
	}
	if tpl := c.get("/outbox/templates"); tpl.Status != 200 || tpl.Doc.Find(`[data-testid=template-acknowledgement]`).Length() != 1 {
		t.Errorf("templates page: %d", tpl.Status)
	}
	bad := c.post("/outbox/templates/acknowledgement", url.Values{"subject": {"Hi {{.Nope"}, "body": {"x"}})
	if bad.Status != http.StatusUnprocessableEntity {
		t.Errorf("a broken template: %d", bad.Status)
	}
}
