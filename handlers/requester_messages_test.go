package handlers_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	fulfilment "github.com/sendara/console/models/fulfilment"

	outbox "github.com/sendara/console/models/outbox"

	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/sendara/console/models/modeltest"
	requests "github.com/sendara/console/models/requests"
)

var requesterStatusRE = regexp.MustCompile(`/my-request/([A-Za-z0-9_-]{20,})`)

// requesterPostMultipart posts fields and one file (if name is not "")
// as multipart, with the CSRF token of the last page.
func (c *client) requesterPostMultipart(path string, fields url.Values, field, name string, content []byte) *page {
	c.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("_csrf", c.csrf)
	for k, vs := range fields {
		for _, v := range vs {
			_ = w.WriteField(k, v)
		}
	}
	if name != "" {
		fw, _ := w.CreateFormFile(field, name)
		_, _ = fw.Write(content)
	}
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, c.app.srv.URL+path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req)
}

// requesterLatestToken is the status token in the newest mail to addr
// about request id.
func (a *testApp) requesterLatestToken(t *testing.T, requestID, addr string) (string, outbox.OutboxMail) {
	t.Helper()
	ms, err := a.db.Outbox(context.Background(), modeltest.Staff, outbox.OutboxFilter{RequestID: requestID})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms { // newest first
		if m.ToAddr == addr {
			found := requesterStatusRE.FindStringSubmatch(m.BodyText)
			if found == nil {
				t.Fatalf("the %s mail to %s has no status link:\n%s", m.Kind, addr, m.BodyText)
			}
			return found[1], m
		}
	}
	t.Fatalf("no mail to %s", addr)
	return "", outbox.OutboxMail{}
}

func TestStaffWriteToTheRequesterWhoReadsAndAnswersOnTheStatusPage(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	biz := calendar.DefaultBusiness()
	r, err := app.db.CreateRequest(ctx, modeltest.Staff, biz, requests.RequestInput{Type: calendar.TypeAccess, Regime: "gdpr", Channel: "email",
		Requester: requests.Requester{Email: "jane@example.com", Name: "Jane Doe"}}, "US")
	if err != nil {
		t.Fatal(err)
	}
	other, err := app.db.CreateRequest(ctx, modeltest.Staff, biz, requests.RequestInput{Type: calendar.TypeErasure, Regime: "gdpr", Channel: "email",
		Requester: requests.Requester{Email: "bob@example.com", Name: "Bob Secret"}}, "US")
	if err != nil {
		t.Fatal(err)
	}
	otherToken, _ := app.requesterLatestToken(t, other.ID, "bob@example.com")
	if _, err := app.db.AskRequester(ctx, modeltest.Staff, r.ID, "Which phone number did the business text you on?"); err != nil {
		t.Fatal(err)
	}

	officer := app.user(accounts.RolePrivacyOfficer, nil, "officer@sendara.test")
	staff := app.client()
	staff.login(officer)
	path := "/requests/" + r.ID
	p := staff.get(path + "?compose=" + fulfilment.MessageRefusal)
	if v, _ := p.Doc.Find(`[data-testid="write-form"] textarea[name="body"]`).Html(); !strings.Contains(v, "[the reason]") {
		t.Fatalf("the refusal template does not prefill the message: %q", v)
	}
	// A refused message keeps the text and names the field.
	bad := staff.requesterPostMultipart(path+"/messages", url.Values{"template": {"free_text"}, "subject": {"Your letter"}, "body": {"See the file."}},
		"files", "run.exe", []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00"))
	if bad.Status != http.StatusUnprocessableEntity || !strings.Contains(bad.text(`[data-testid="write-form"]`), "PDF, PNG, JPEG or plain text") {
		t.Fatalf("an executable attachment: status %d, form %q", bad.Status, bad.text(`[data-testid="write-form"]`))
	}
	ok := staff.requesterPostMultipart(path+"/messages", url.Values{"template": {"free_text"}, "subject": {"Your letter"}, "body": {"Please read our letter."}},
		"files", "letter.txt", []byte("Dear Jane, here is our letter."))
	if ok.Status != http.StatusSeeOther {
		t.Fatalf("writing: status %d\n%s", ok.Status, ok.Body)
	}
	token, mail := app.requesterLatestToken(t, r.ID, "jane@example.com")
	if mail.Subject != "Your letter" || !strings.Contains(mail.BodyText, "Please read our letter.") || !strings.Contains(mail.BodyText, "letter.txt") {
		t.Fatalf("the queued mail: %q\n%s", mail.Subject, mail.BodyText)
	}
	page := staff.get(path)
	if !strings.Contains(page.text(`[data-testid="requester-message-out"]`), "Please read our letter.") {
		t.Fatalf("the message is not in the request's thread: %q", page.text(`[data-testid="requester-messages"]`))
	}
	fileHref, _ := page.Doc.Find(`[data-testid="requester-message-out"] a[download]`).Attr("href")
	if dl := staff.get(fileHref); dl.Status != http.StatusOK || dl.Body != "Dear Jane, here is our letter." || dl.Header.Get("Content-Disposition") == "" {
		t.Fatalf("staff download of %q: %d %q", fileHref, dl.Status, dl.Body)
	}

	// The requester, signed in nowhere, follows the link.
	jane := app.client()
	sp := jane.get("/my-request/" + token)
	if sp.Status != http.StatusOK {
		t.Fatalf("status page: %d", sp.Status)
	}
	if !strings.Contains(sp.text(`h1`), r.Reference) || !strings.Contains(sp.text(`[data-testid="status-deadline"]`), "clock stopped") ||
		!strings.Contains(sp.Body, "Please read our letter.") || !strings.Contains(sp.Body, "Which phone number") {
		t.Fatalf("status page lacks reference, stopped clock or messages:\n%s", sp.text(`body`))
	}
	for _, leak := range []string{other.Reference, "Bob Secret", "bob@example.com", "officer@sendara.test"} {
		if strings.Contains(sp.Body, leak) {
			t.Errorf("the status page shows %q", leak)
		}
	}
	if href, _ := sp.Doc.Find(`[data-testid="status-message"] a[download]`).Attr("href"); href == "" {
		t.Error("the attachment is not offered to the requester")
	} else if dl := jane.get(href); dl.Status != http.StatusOK || dl.Body != "Dear Jane, here is our letter." {
		t.Errorf("requester download: %d", dl.Status)
	} else if wrong := jane.get(strings.Replace(href, token, otherToken, 1)); wrong.Status != http.StatusNotFound {
		t.Errorf("the file through another request's link: %d, want 404", wrong.Status)
	}
	for _, bad := range []string{"/my-request/" + strings.Repeat("A", 43), "/my-request/x"} {
		if p := jane.get(bad); p.Status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", bad, p.Status)
		}
	}
	if p := jane.get("/my-request/" + otherToken); strings.Contains(p.Body, r.Reference) || strings.Contains(p.Body, "Please read our letter.") {
		t.Error("another request's link shows this request")
	}

	// The reply joins the thread and restarts the clock.
	jane.get("/my-request/" + token)
	if p := jane.requesterPostMultipart("/my-request/"+token, url.Values{"body": {" "}}, "", "", nil); p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("an empty reply: %d", p.Status)
	}
	reply := jane.requesterPostMultipart("/my-request/"+token, url.Values{"body": {"It was +1 415 555 0100."}}, "", "", nil)
	if reply.Status != http.StatusSeeOther {
		t.Fatalf("reply: %d\n%s", reply.Status, reply.Body)
	}
	after := jane.get(reply.Header.Get("Location"))
	if !strings.Contains(after.text(`[data-testid="status-notice"]`), "reached us") || strings.Contains(after.text(`[data-testid="status-deadline"]`), "clock stopped") {
		t.Fatalf("after the reply: notice %q, deadline %q", after.text(`[data-testid="status-notice"]`), after.text(`[data-testid="status-deadline"]`))
	}
	got, err := app.db.Request(ctx, modeltest.Staff, r.ID)
	if err != nil || got.Status == requests.StatusWaiting {
		t.Fatalf("the request is %s after the reply, want resumed", got.Status)
	}
	if !strings.Contains(staff.get(path).text(`[data-testid="requester-message-in"]`), "It was +1 415 555 0100.") {
		t.Error("the reply is not in the staff thread")
	}
	actions := strings.Join(app.auditActions(), " ")
	for _, want := range []string{"request.message ", "request.message_file_download", "request.status_view", "request.status_file_download", "request.status_reply", "request.resume"} {
		if !strings.Contains(actions+" ", want) {
			t.Errorf("audit lacks %s", want)
		}
	}
}
