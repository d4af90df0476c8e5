package models_test

import (
	calendar "github.com/sendara/console/models/calendar"
	fulfilment "github.com/sendara/console/models/fulfilment"

	outbox "github.com/sendara/console/models/outbox"

	requests "github.com/sendara/console/models/requests"

	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

var requesterLinkRE = regexp.MustCompile(`https://console\.example/my-request/([A-Za-z0-9_-]+)`)

// requesterOpen is a database whose requester mails carry status links.
func requesterOpen(t *testing.T) *models.DB {
	t.Helper()
	db := modeltest.Open(t)
	db.UseStatusLinks(func(token string) string { return "https://console.example/my-request/" + token })
	return db
}

// requesterToken is the status token in the newest mail of kind to r's
// requester.
func requesterToken(t *testing.T, db *models.DB, r *requests.PrivacyRequest, kind string) string {
	t.Helper()
	m := requesterMail(t, db, r, kind)
	found := requesterLinkRE.FindStringSubmatch(m.BodyText)
	if found == nil {
		t.Fatalf("the %s mail has no status link:\n%s", kind, m.BodyText)
	}
	return found[1]
}

func TestEveryRequesterMailCarriesAStatusLinkStoredHashedForOneRequest(t *testing.T) {
	t.Parallel()
	db := requesterOpen(t)
	ctx := context.Background()
	r := newRequest(t, db, requests.RequestInput{Type: calendar.TypeAccess, Regime: "gdpr", Requester: requests.Requester{Email: janeEmail, Name: "Jane"}})
	other := newRequest(t, db, requests.RequestInput{Type: calendar.TypeErasure, Regime: "gdpr", Requester: requests.Requester{Email: "bob@example.com", Name: "Bob"}})
	token := requesterToken(t, db, r, outbox.MailAcknowledgement)
	otherToken := requesterToken(t, db, other, outbox.MailAcknowledgement)

	var stored []string
	if err := db.Gorm.Table("request_status_links").Pluck("token_hash", &stored).Error; err != nil {
		t.Fatal(err)
	}
	for _, h := range stored {
		if h == token || h == otherToken {
			t.Fatal("a status token is stored in clear")
		}
	}

	v, err := db.RequesterStatus(ctx, token, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if v.Request.ID != r.ID || v.Request.Reference != r.Reference {
		t.Fatalf("the link opens %s, want %s", v.Request.Reference, r.Reference)
	}
	for _, m := range v.Messages {
		if strings.Contains(m.Body, other.Reference) || strings.Contains(m.Body, "bob@example.com") {
			t.Fatalf("another request's mail shows on the page: %q", m.Body)
		}
	}
	if len(v.Messages) == 0 || !strings.Contains(v.Messages[0].Subject+v.Messages[0].Body, r.Reference) {
		t.Fatalf("the acknowledgement is not among the messages: %+v", v.Messages)
	}
	if ev := auditActions(t, db, "request.status_view"); len(ev) != 1 || ev[0].ObjectID != r.ID {
		t.Fatalf("status views audited: %+v, want one for %s", ev, r.ID)
	}
	for _, bad := range []string{"", "nope", token + "x", strings.ToUpper(token)} {
		if _, err := db.RequesterStatus(ctx, bad, "192.0.2.1"); !errors.Is(err, fulfilment.ErrStatusLinkInvalid) {
			t.Errorf("token %q: %v, want ErrStatusLinkInvalid", bad, err)
		}
	}
}

func TestWritingToTheRequesterSealsAttachmentsAndTheirReplyResumesTheClock(t *testing.T) {
	t.Parallel()
	db := requesterOpen(t)
	ctx := context.Background()
	r := newRequest(t, db, requests.RequestInput{Type: calendar.TypeAccess, Regime: "gdpr", Requester: requests.Requester{Email: janeEmail, Name: "Jane"}})

	for _, tc := range []struct {
		name, subject, body string
		files               []fulfilment.MessageFile
		field               string
	}{
		{"no subject", "", "Hello", nil, "subject"},
		{"no body", "Hi", " ", nil, "body"},
		{"refusal placeholder left", "Refused", "We cannot act, for this reason: [the reason]", nil, "body"},
		{"an executable", "Hi", "See attached", []fulfilment.MessageFile{{Name: "x.exe", Data: []byte("MZ\x90\x00\x03\x00\x00\x00")}}, "files"},
		{"too large", "Hi", "See attached", []fulfilment.MessageFile{{Name: "big.pdf", Data: append([]byte("%PDF-1.4\n"), make([]byte, fulfilment.MaxMessageFileBytes)...)}}, "files"},
	} {
		if _, err := db.WriteToRequester(ctx, modeltest.Staff, r.ID, fulfilment.MessageFree, tc.subject, tc.body, tc.files); !isValidation(err, tc.field) {
			t.Errorf("%s: %v, want refused naming %s", tc.name, err, tc.field)
		}
	}
	if _, err := db.WriteToRequester(ctx, store.CustomerUser("u", "a@acme.test", newCustomer(t, db, "acme").ID, ""), r.ID, fulfilment.MessageFree, "Hi", "Hello", nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a customer user writing: %v, want not found", err)
	}

	m, err := db.WriteToRequester(ctx, modeltest.Staff, r.ID, fulfilment.MessageFree, "Your letter", "Please find our letter attached.",
		[]fulfilment.MessageFile{{Name: "letter.pdf", Data: proofsPDF}})
	if err != nil {
		t.Fatal(err)
	}
	var sealed string
	if err := db.Gorm.Table("request_message_files").Where("id = ?", m.Files[0].ID).Pluck("data", &sealed).Error; err != nil {
		t.Fatal(err)
	}
	// "%PDF-" cannot occur in the sealed text by chance ('%' and '-' are
	// not in its base64 alphabet); "PDF" alone did, once in a few hundred runs.
	if !strings.HasPrefix(sealed, "sealed:v1:") || strings.Contains(sealed, "%PDF-") || strings.Contains(sealed, "Agent Smith") {
		t.Fatalf("the attachment is not sealed: %.40q", sealed)
	}
	f, data, err := db.MessageFileForStaff(ctx, modeltest.Staff, r.ID, m.Files[0].ID)
	if err != nil || string(data) != string(proofsPDF) || f.ContentType != "application/pdf" {
		t.Fatalf("staff download: %v, %s, %d bytes", err, f.ContentType, len(data))
	}
	if len(auditActions(t, db, "request.message_file_download")) != 1 || len(auditActions(t, db, "request.message")) == 0 {
		t.Fatal("writing and the download are not audited")
	}
	token := requesterToken(t, db, r, outbox.MailOther)
	mail := requesterMail(t, db, r, outbox.MailOther)
	if !strings.Contains(mail.BodyText, "letter.pdf") || strings.Contains(mail.BodyText, "%PDF") {
		t.Fatalf("the mail should name the file, not carry it:\n%s", mail.BodyText)
	}
	if _, data, err := db.MessageFileForRequester(ctx, token, m.Files[0].ID, "192.0.2.1"); err != nil || string(data) != string(proofsPDF) {
		t.Fatalf("requester download: %v", err)
	}

	// Asked, the request waits; the reply from the status page resumes it.
	if _, err := db.AskRequester(ctx, modeltest.Staff, r.ID, "Which phone number did the business text you on?"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RequesterReply(ctx, la(t), token, "  ", "192.0.2.1", nil); !isValidation(err, "body") {
		t.Fatalf("an empty reply: %v", err)
	}
	got, err := db.RequesterReply(ctx, la(t), token, "It was +1 555 0100.", "192.0.2.1", []fulfilment.MessageFile{{Name: "note.txt", Data: []byte("plain words")}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status == requests.StatusWaiting || got.PausedAt != nil {
		t.Fatalf("after the reply the request is %s, want resumed", got.Status)
	}
	v, err := db.RequesterStatus(ctx, token, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	var sawReply, sawLetter, sawQuestion bool
	for _, m := range v.Messages {
		sawReply = sawReply || (m.FromThem && m.Body == "It was +1 555 0100." && len(m.Files) == 1)
		sawLetter = sawLetter || (!m.FromThem && m.Body == "Please find our letter attached." && len(m.Files) == 1)
		sawQuestion = sawQuestion || strings.Contains(m.Body, "Which phone number")
		if strings.Contains(m.Body, "/my-request/") {
			t.Errorf("a message shows a status link: %q", m.Body)
		}
	}
	if !sawReply || !sawLetter || !sawQuestion {
		t.Fatalf("thread on the status page: reply %v, letter %v, question %v", sawReply, sawLetter, sawQuestion)
	}
	msgs, err := db.RequestMessages(ctx, modeltest.Staff, r.ID)
	if err != nil || len(msgs) != 2 || msgs[1].Direction != "in" {
		t.Fatalf("staff thread: %v, %+v", err, msgs)
	}
}

func TestTheStatusPageHandsOutTheBundleOnceWithinItsExpiry(t *testing.T) {
	t.Parallel()
	db := requesterOpen(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	subject(t, db, acme)
	r := instructed(t, db, calendar.TypeAccess, []string{janePhone})
	token := requesterToken(t, db, r, outbox.MailAcknowledgement)

	if _, err := db.RequesterBundleLink(ctx, token, "192.0.2.1"); !isConflict(err) {
		t.Fatalf("no bundle yet: %v, want a conflict", err)
	}
	b, err := db.ExportBundle(ctx, modeltest.Staff, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	v, err := db.RequesterStatus(ctx, token, "192.0.2.1")
	if err != nil || v.BundleExpires == nil || !v.BundleExpires.Equal(b.Export.ExpiresAt) {
		t.Fatalf("status page bundle: %v, %v, want ready until %v", err, v.BundleExpires, b.Export.ExpiresAt)
	}
	link, err := db.RequesterBundleLink(ctx, token, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.DownloadExport(ctx, store.Public("", "link holder", "192.0.2.1"), b.Token); err == nil {
		t.Fatal("the mailed link still works after the status page gave a new one")
	}
	got, err := db.DownloadExport(ctx, store.Public("", "link holder", "192.0.2.1"), link)
	if err != nil || !got.ExpiresAt.Equal(b.Export.ExpiresAt) {
		t.Fatalf("download by the status page's link: %v (expiry %v, want %v)", err, got, b.Export.ExpiresAt)
	}
	if _, err := db.RequesterBundleLink(ctx, token, "192.0.2.1"); !isConflict(err) {
		t.Fatalf("after the download: %v, want a conflict (staff issue a new link)", err)
	}
	if v, _ := db.RequesterStatus(ctx, token, "192.0.2.1"); v.BundleExpires != nil {
		t.Fatal("a used bundle is still offered")
	}
}

func TestAMessageAttachmentIsResealedWhenTheKeyRotates(t *testing.T) {
	t.Parallel()
	db := requesterOpen(t)
	ctx := context.Background()
	r := newRequest(t, db, requests.RequestInput{Type: calendar.TypeAccess, Regime: "gdpr", Requester: requests.Requester{Email: janeEmail}})
	oldKey, newKey := make([]byte, 32), make([]byte, 32)
	_, _ = rand.Read(oldKey)
	_, _ = rand.Read(newKey)
	old, _ := store.NewKeyring(oldKey)
	if err := db.Gorm.Exec("DELETE FROM settings WHERE key = 'server_secret'").Error; err != nil {
		t.Fatal(err)
	}
	db.UseKeyring(old)
	m, err := db.WriteToRequester(ctx, modeltest.Staff, r.ID, fulfilment.MessageFree, "Your letter", "Attached.", []fulfilment.MessageFile{{Name: "l.pdf", Data: proofsPDF}})
	if err != nil {
		t.Fatal(err)
	}
	rotated, _ := store.NewKeyring(newKey, oldKey)
	db.UseKeyring(rotated)
	if n, err := db.SealSecrets(ctx); err != nil || n < 1 {
		t.Fatalf("SealSecrets after a rotation = %d, %v", n, err)
	}
	onlyNew, _ := store.NewKeyring(newKey)
	db.UseKeyring(onlyNew)
	if _, data, err := db.MessageFileForStaff(ctx, modeltest.Staff, r.ID, m.Files[0].ID); err != nil || !bytes.Equal(data, proofsPDF) {
		t.Errorf("the attachment under the new key alone: %v", err)
	}
}
