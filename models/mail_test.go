package models_test

import (
	customers "github.com/sendara/console/models/customers"
	errs "github.com/sendara/console/models/errs"

	outbox "github.com/sendara/console/models/outbox"

	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// queue puts a mail in the outbox in a transaction of its own.
func queue(t testing.TB, db *models.DB, m outbox.OutboundMail) string {
	t.Helper()
	if m.ID == "" {
		m.ID = uuid.Must(uuid.NewV7()).String()
	}
	if err := db.Tx(t.Context(), modeltest.Staff, func(tx *store.Tx) error { return db.QueueMail(tx, m) }); err != nil {
		t.Fatalf("QueueMail: %v", err)
	}
	return m.ID
}

func outboxEntry(t testing.TB, db *models.DB, id string) *outbox.OutboxMail {
	t.Helper()
	m, err := db.OutboxEntry(t.Context(), modeltest.Staff, id)
	if err != nil {
		t.Fatalf("OutboxEntry %s: %v", id, err)
	}
	return m
}

func auditActions(t testing.TB, db *models.DB, prefix string) []store.AuditEvent {
	t.Helper()
	events, err := db.ListAudit(t.Context(), modeltest.Staff, store.AuditFilter{Action: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return events
}

var someMail = outbox.OutboundMail{Kind: outbox.MailOther, To: "Jane Doe <Jane.Doe@Example.COM>", Subject: "About PR-2026-000001", Body: "Hello Jane"}

func TestQueueMailWritesTheOutboxRowAndItsAuditEntryTogether(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	c := newCustomer(t, db, "acme")
	m := someMail
	m.CustomerID = c.ID
	id := queue(t, db, m)

	got := outboxEntry(t, db, id)
	if got.Status != outbox.MailQueued || got.Attempts != 0 || got.ToAddr != "jane.doe@example.com" ||
		got.Subject != m.Subject || got.BodyText != m.Body || got.CustomerID == nil || *got.CustomerID != c.ID {
		t.Errorf("outbox row = %+v", got)
	}
	events := auditActions(t, db, "mail.queue")
	if len(events) != 1 || events[0].ObjectID != id || events[0].CustomerID != c.ID {
		t.Errorf("audit = %+v, want one mail.queue for %s", events, id)
	}
}

func TestQueueMailRollsBackWithTheTransactionItIsPartOf(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	boom := errors.New("the request could not be created")
	err := db.Tx(t.Context(), modeltest.Staff, func(tx *store.Tx) error {
		if err := db.QueueMail(tx, someMail); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx = %v", err)
	}
	if got, _ := db.Outbox(t.Context(), modeltest.Staff, outbox.OutboxFilter{}); len(got) != 0 {
		t.Errorf("outbox holds %d mails after the rollback", len(got))
	}
	if got := auditActions(t, db, "mail."); len(got) != 0 {
		t.Errorf("audit holds %d mail entries after the rollback", len(got))
	}
}

func TestQueueMailRendersTheTemplateInsideTheTransaction(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	// On SQLite the transaction holds the only connection: rendering must
	// use it, or this would wait forever (the deadline turns that into a
	// failure).
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	id := uuid.Must(uuid.NewV7()).String()
	err := db.Tx(ctx, modeltest.Staff, func(tx *store.Tx) error {
		return db.QueueMail(tx, outbox.OutboundMail{ID: id, Kind: outbox.MailAcknowledgement, To: "jane@example.com",
			Data: outbox.MailData{Reference: "PR-2026-000042", RequesterName: "Jane", ReceivedOn: "2026-03-02", DueOn: "2026-04-02"}})
	})
	if err != nil {
		t.Fatalf("QueueMail: %v", err)
	}
	got := outboxEntry(t, db, id)
	if got.Subject != "We received your privacy request PR-2026-000042" {
		t.Errorf("subject = %q", got.Subject)
	}
	for _, want := range []string{"Dear Jane,", "reference PR-2026-000042", "by 2026-04-02"} {
		if !strings.Contains(got.BodyText, want) {
			t.Errorf("body lacks %q:\n%s", want, got.BodyText)
		}
	}
}

func TestQueueMailRefusesBadInputNamingTheField(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	with := func(f func(*outbox.OutboundMail)) outbox.OutboundMail {
		m := someMail
		f(&m)
		return m
	}
	tests := []struct {
		name  string
		mail  outbox.OutboundMail
		field string
	}{
		{"an unknown kind", with(func(m *outbox.OutboundMail) { m.Kind = "newsletter" }), "kind"},
		{"no recipient", with(func(m *outbox.OutboundMail) { m.To = "" }), "to"},
		{"a recipient that is not an address", with(func(m *outbox.OutboundMail) { m.To = "jane at example" }), "to"},
		{"two recipients", with(func(m *outbox.OutboundMail) { m.To = "a@example.com, b@example.com" }), "to"},
		{"an empty subject", with(func(m *outbox.OutboundMail) { m.Subject = " " }), "subject"},
		{"a subject that would add a header", with(func(m *outbox.OutboundMail) { m.Subject = "Hi\r\nBcc: x@example.com" }), "subject"},
		{"an empty body", with(func(m *outbox.OutboundMail) { m.Body = "" }), "body"},
		{"an id that is not a UUID", with(func(m *outbox.OutboundMail) { m.ID = "mail-1" }), "id"},
		{"template data lacking a placeholder", outbox.OutboundMail{Kind: outbox.MailDenial, To: "a@example.com", Data: struct{ Reference string }{"PR-2026-000001"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := db.Tx(t.Context(), modeltest.Staff, func(tx *store.Tx) error { return db.QueueMail(tx, tt.mail) })
			if tt.field == "" {
				if err == nil {
					t.Fatal("QueueMail accepted it")
				}
				return
			}
			wantInvalid(t, err, tt.field)
		})
	}
	if got, _ := db.Outbox(t.Context(), modeltest.Staff, outbox.OutboxFilter{}); len(got) != 0 {
		t.Errorf("refused mail left %d outbox rows", len(got))
	}
}

func TestMailTemplatesAreSeededForEveryKindAndRender(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ts, err := db.MailTemplates(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != len(outbox.MailKinds) {
		t.Fatalf("%d templates, want one per kind (%d)", len(ts), len(outbox.MailKinds))
	}
	data := outbox.SampleMailData()
	// What each kind must say, beyond the reference.
	musts := map[string][]string{
		outbox.MailAcknowledgement: {data.DueOn, data.ReceivedOn, "Dear Jane Doe,"},
		outbox.MailVerification:    {data.Link},
		outbox.MailRouting:         {data.Business, "answer Sendara by: " + data.AnswerBy, "must be answered by: " + data.DueOn, data.Link, data.RequestType},
		outbox.MailExtension:       {data.Reason, data.ExtendedTo},
		outbox.MailCompletion:      {"- " + data.Outcomes[0], "- " + data.Outcomes[1], data.Link, data.LinkExpires},
		outbox.MailDenial:          {data.Reason, "- " + data.Outcomes[1], "right to complain", "supervisory authority"},
		outbox.MailOther:           {data.Message},
	}
	for i, tmpl := range ts {
		t.Run(tmpl.Kind, func(t *testing.T) {
			if tmpl.Kind != outbox.MailKinds[i] {
				t.Errorf("template %d is %q, want %q (MailKinds order)", i, tmpl.Kind, outbox.MailKinds[i])
			}
			subject, body, err := db.RenderTemplate(t.Context(), tmpl.Kind, data)
			if err != nil {
				t.Fatalf("RenderTemplate: %v", err)
			}
			if !strings.Contains(subject, data.Reference) || strings.ContainsAny(subject, "\r\n") {
				t.Errorf("subject = %q, want one line naming %s", subject, data.Reference)
			}
			for _, want := range append(musts[tmpl.Kind], data.Reference) {
				if !strings.Contains(body, want) {
					t.Errorf("body lacks %q:\n%s", want, body)
				}
			}
			if strings.Contains(body, "<no value>") || strings.Contains(body, "{{") {
				t.Errorf("body has an unrendered placeholder:\n%s", body)
			}
		})
	}
}

func TestMailTemplateGreetsWithoutANameWhenThereIsNone(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	_, body, err := db.RenderTemplate(t.Context(), outbox.MailAcknowledgement, outbox.MailData{Reference: "PR-2026-000001"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(body, "Hello,\n") {
		t.Errorf("body starts %q, want a greeting without a name", body[:min(len(body), 20)])
	}
}

func TestRenderTemplateOfAnUnknownKindIsInvalid(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	_, _, err := db.RenderTemplate(t.Context(), "newsletter", outbox.SampleMailData())
	wantInvalid(t, err, "kind")
}

func TestUpdateTemplateRefusesAnInvalidTemplateNamingTheField(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	const okSubject, okBody = "Request {{.Reference}}", "Hello {{.RequesterName}}"
	tests := []struct {
		name          string
		subject, body string
		field         string
		says          string
	}{
		{"a subject that does not parse", "Request {{.Reference", okBody, "subject", "not a valid template"},
		{"a body that does not parse", okSubject, "Hello {{if .RequesterName}}", "body", "not a valid template"},
		{"an unknown placeholder in the body", okSubject, "Due {{.DueDate}}", "body", "{{.DueDate}}, which is not a placeholder"},
		{"an unknown placeholder in the subject", "Request {{.Ref}}", okBody, "subject", "{{.DueOn}}"},
		{"an unknown function", okSubject, "{{upper .Reference}}", "body", "not a valid template"},
		{"an empty subject", "  ", okBody, "subject", "required"},
		{"an empty body", okSubject, "\n", "body", "required"},
		{"a body that renders as nothing", okSubject, "{{if false}}x{{end}}", "body", "renders as nothing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := db.UpdateTemplate(t.Context(), modeltest.Staff, outbox.MailAcknowledgement, tt.subject, tt.body)
			wantInvalid(t, err, tt.field)
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("error %q does not say %q", err, tt.says)
			}
		})
	}
	if got := auditActions(t, db, "mail_template."); len(got) != 0 {
		t.Errorf("refused edits wrote %d audit entries", len(got))
	}
}

func TestUpdateTemplateChangesTheTextAndAuditsBeforeAndAfter(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	before, err := db.MailTemplateByKind(t.Context(), outbox.MailExtension)
	if err != nil {
		t.Fatal(err)
	}
	subject, body := "More time for {{.Reference}}", "We now answer by {{.ExtendedTo}} because {{.Reason}}"
	if err := db.UpdateTemplate(t.Context(), modeltest.Staff, outbox.MailExtension, subject, body); err != nil {
		t.Fatalf("UpdateTemplate: %v", err)
	}
	gotSubject, gotBody, err := db.RenderTemplate(t.Context(), outbox.MailExtension, outbox.MailData{Reference: "PR-2026-000009", ExtendedTo: "2026-06-01", Reason: "it is complex"})
	if err != nil {
		t.Fatal(err)
	}
	if gotSubject != "More time for PR-2026-000009" || gotBody != "We now answer by 2026-06-01 because it is complex\n" {
		t.Errorf("rendered %q / %q after the edit", gotSubject, gotBody)
	}
	events := auditActions(t, db, "mail_template.update")
	if len(events) != 1 || events[0].ObjectID != outbox.MailExtension {
		t.Fatalf("audit = %+v", events)
	}
	var details struct {
		Before, After struct{ Subject, Body string }
	}
	if err := json.Unmarshal([]byte(events[0].Details), &details); err != nil {
		t.Fatal(err)
	}
	if details.Before.Subject != before.Subject || details.Before.Body != before.Body ||
		details.After.Subject != subject || details.After.Body != body {
		t.Errorf("audit details = %+v", details)
	}
}

func TestUpdateTemplateIsStaffOnlyAndKnowsItsKinds(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	c := newCustomer(t, db, "acme")
	customerAdmin := store.CustomerUser(uuid.NewString(), "admin@acme.test", c.ID, "")
	if err := db.UpdateTemplate(t.Context(), customerAdmin, outbox.MailDenial, "x {{.Reference}}", "y"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a customer admin's edit = %v, want ErrNotFound", err)
	}
	if err := db.UpdateTemplate(t.Context(), modeltest.Staff, "newsletter", "x", "y"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an unknown kind = %v, want ErrNotFound", err)
	}
}

func TestOutboxIsScopedToTheActorsTenant(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	a, b := newCustomer(t, db, "acme"), newCustomer(t, db, "other")
	routed := func(c *customers.Customer) string {
		return queue(t, db, outbox.OutboundMail{CustomerID: c.ID, Kind: outbox.MailRouting, To: "admin@" + c.Slug + ".test", Subject: "s", Body: "b"})
	}
	mailA, mailB := routed(a), routed(b)
	requester := queue(t, db, someMail)
	adminA := store.CustomerUser(uuid.NewString(), "admin@acme.test", a.ID, "")

	got, err := db.Outbox(t.Context(), adminA, outbox.OutboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != mailA {
		t.Errorf("customer A sees %+v, want only its own mail", got)
	}
	if _, err := db.OutboxEntry(t.Context(), adminA, mailB); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("customer A reading B's mail = %v, want ErrNotFound", err)
	}
	if _, err := db.OutboxEntry(t.Context(), adminA, requester); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("customer A reading a requester's mail = %v, want ErrNotFound", err)
	}
	all, err := db.Outbox(t.Context(), modeltest.Staff, outbox.OutboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[0].ID != requester {
		t.Errorf("staff see %d mails (newest %v), want 3 newest first", len(all), all)
	}
	page, _ := db.Outbox(t.Context(), modeltest.Staff, outbox.OutboxFilter{Before: all[0].ID, Limit: 1})
	if len(page) != 1 || page[0].ID != all[1].ID {
		t.Errorf("the page after the newest = %+v, want %s", page, all[1].ID)
	}
	kinds, _ := db.Outbox(t.Context(), modeltest.Staff, outbox.OutboxFilter{Kind: outbox.MailRouting, Status: outbox.MailQueued})
	if len(kinds) != 2 {
		t.Errorf("routing mails = %d, want 2", len(kinds))
	}
}

func TestOutboxClaimLeasesDueMailToOneSender(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	id := queue(t, db, someMail)
	now := time.Now().UTC()

	first, err := db.ClaimOutbox(t.Context(), now, 10*time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 1 || first[0].ID != id || first[0].Attempts != 1 {
		t.Fatalf("first claim = %+v, want the mail at attempt 1", first)
	}
	if again, _ := db.ClaimOutbox(t.Context(), now.Add(time.Minute), 10*time.Minute, 10); len(again) != 0 {
		t.Errorf("a second sender claimed %d leased mails", len(again))
	}
	// The first sender died; after the lease the mail is due again.
	second, _ := db.ClaimOutbox(t.Context(), now.Add(11*time.Minute), 10*time.Minute, 10)
	if len(second) != 1 || second[0].Attempts != 2 {
		t.Fatalf("claim after the lease = %+v, want the mail at attempt 2", second)
	}
	if err := db.MarkMailSent(t.Context(), &first[0], "late@sendara.example", now); !errors.Is(err, outbox.ErrMailClaimLost) {
		t.Errorf("the first sender's late result = %v, want ErrMailClaimLost", err)
	}
	if err := db.MarkMailSent(t.Context(), &second[0], "x1@sendara.example", now); err != nil {
		t.Fatalf("MarkMailSent: %v", err)
	}
	got := outboxEntry(t, db, id)
	if got.Status != outbox.MailSent || got.MessageID != "x1@sendara.example" || got.SentAt == nil {
		t.Errorf("after sending: %+v", got)
	}
	if events := auditActions(t, db, "mail.send"); len(events) != 1 || events[0].ActorLabel != "mailer" {
		t.Errorf("audit = %+v, want one mail.send by the mailer", events)
	}
	if found, err := db.OutboxByMessageID(t.Context(), "unknown@x", "x1@sendara.example"); err != nil || found.ID != id {
		t.Errorf("OutboxByMessageID = %v, %v", found, err)
	}
}

func TestOutboxRetryFailAndRequeue(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	id := queue(t, db, someMail)
	now := time.Now().UTC()
	claim := func(at time.Time) *outbox.OutboxMail {
		t.Helper()
		ms, err := db.ClaimOutbox(t.Context(), at, time.Minute, 10)
		if err != nil || len(ms) != 1 {
			t.Fatalf("claim at %v = %v, %v", at, ms, err)
		}
		return &ms[0]
	}

	m := claim(now)
	next := now.Add(2 * time.Minute)
	if err := db.MarkMailRetry(t.Context(), m, next, "451 try later"); err != nil {
		t.Fatal(err)
	}
	got := outboxEntry(t, db, id)
	if got.Status != outbox.MailQueued || got.Attempts != 1 || !got.NextAttemptAt.Equal(next.Truncate(time.Microsecond)) || got.LastError != "451 try later" {
		t.Errorf("after a retry: %+v", got)
	}
	if early, _ := db.ClaimOutbox(t.Context(), next.Add(-time.Second), time.Minute, 10); len(early) != 0 {
		t.Error("the mail was claimed before its next attempt")
	}

	m = claim(next)
	if err := db.MarkMailFailed(t.Context(), m, "550 no such user"); err != nil {
		t.Fatal(err)
	}
	if got := outboxEntry(t, db, id); got.Status != outbox.MailFailed || got.LastError != "550 no such user" {
		t.Errorf("after failing: %+v", got)
	}
	if err := db.RequeueMail(t.Context(), modeltest.Staff, id); err != nil {
		t.Fatalf("RequeueMail: %v", err)
	}
	if got := outboxEntry(t, db, id); got.Status != outbox.MailQueued || got.Attempts != 0 {
		t.Errorf("after requeue: %+v", got)
	}
	if _, ok := errs.AsConflict(db.RequeueMail(t.Context(), modeltest.Staff, id)); !ok {
		t.Error("requeueing a queued mail is not a conflict")
	}
	for _, action := range []string{"mail.fail", "mail.requeue"} {
		if len(auditActions(t, db, action)) != 1 {
			t.Errorf("no %s audit entry", action)
		}
	}
}

func TestHoldQueuedMailKeepsItInTheOutbox(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	id := queue(t, db, someMail)
	n, err := db.HoldQueuedMail(t.Context(), time.Now(), "no SMTP server is configured")
	if err != nil || n != 1 {
		t.Fatalf("HoldQueuedMail = %d, %v", n, err)
	}
	if got := outboxEntry(t, db, id); got.Status != outbox.MailHeld || got.LastError == "" {
		t.Errorf("held mail = %+v", got)
	}
	if claimed, _ := db.ClaimOutbox(t.Context(), time.Now().Add(time.Hour), time.Minute, 10); len(claimed) != 0 {
		t.Error("a held mail was claimed for sending")
	}
}

func TestStoreInboundKeepsTheRawSourceOnceAsEvidence(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	c := newCustomer(t, db, "acme")
	raw := []byte("From: jane@example.com\r\nMessage-ID: <abc@example.com>\r\nSubject: delete me\r\n\r\nPlease delete my data.\r\n")
	requestID := uuid.NewString()
	in := outbox.InboundInput{MessageID: "abc@example.com", From: "Jane@Example.com", Subject: "delete me", Raw: raw, RequestID: requestID, CustomerID: c.ID}
	keep := func(in outbox.InboundInput) (*outbox.InboundMail, error) {
		var m *outbox.InboundMail
		err := db.Tx(t.Context(), modeltest.Staff, func(tx *store.Tx) error {
			var err error
			m, err = db.StoreInbound(tx, in)
			return err
		})
		return m, err
	}
	m, err := keep(in)
	if err != nil {
		t.Fatalf("StoreInbound: %v", err)
	}
	if _, err := keep(in); !errors.Is(err, outbox.ErrDuplicateInbound) {
		t.Errorf("the same message again = %v, want ErrDuplicateInbound", err)
	}
	noID := in
	noID.MessageID = ""
	for range 2 {
		if _, err := keep(noID); err != nil {
			t.Errorf("a message without a Message-ID = %v; it cannot be told apart, so it is kept", err)
		}
	}

	got, err := db.InboundRaw(t.Context(), modeltest.Staff, m.ID)
	if err != nil || string(got) != string(raw) {
		t.Errorf("InboundRaw = %q, %v", got, err)
	}
	list, err := db.InboundMails(t.Context(), modeltest.Staff, outbox.InboundFilter{RequestID: requestID})
	if err != nil || len(list) != 3 || list[2].ID != m.ID || list[2].FromAddr != "jane@example.com" || list[2].Raw != nil {
		t.Errorf("InboundMails = %+v, %v; want 3 without their raw source", list, err)
	}
	other := store.CustomerUser(uuid.NewString(), "x@other.test", newCustomer(t, db, "other").ID, "")
	if _, err := db.InboundRaw(t.Context(), other, m.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another tenant reading the mail = %v, want ErrNotFound", err)
	}
	if events := auditActions(t, db, "mail.receive"); len(events) != 3 {
		t.Errorf("%d mail.receive entries, want 3 (the duplicate rolled back)", len(events))
	}
}

func TestLinkInboundAttachesAMailToARequest(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	var id string
	err := db.Tx(t.Context(), modeltest.Staff, func(tx *store.Tx) error {
		m, err := db.StoreInbound(tx, outbox.InboundInput{From: "a@example.com", Raw: []byte("From: a@example.com\r\n\r\nhi\r\n")})
		if m != nil {
			id = m.ID
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	requestID := uuid.NewString()
	if err := db.Tx(t.Context(), modeltest.Staff, func(tx *store.Tx) error { return db.LinkInbound(tx, id, requestID, "") }); err != nil {
		t.Fatalf("LinkInbound: %v", err)
	}
	list, _ := db.InboundMails(t.Context(), modeltest.Staff, outbox.InboundFilter{RequestID: requestID})
	if len(list) != 1 || list[0].ID != id {
		t.Errorf("the request's mail = %+v", list)
	}
}

func TestOutboxClaimsOfConcurrentSendersNeverOverlap(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	const mails, senders = 40, 4
	for range mails {
		queue(t, db, someMail)
	}
	now := time.Now().UTC()
	var (
		mu   sync.Mutex
		seen = map[string]int{}
		wg   sync.WaitGroup
	)
	errs := make(chan error, senders)
	for range senders {
		wg.Go(func() {
			for {
				ms, err := db.ClaimOutbox(t.Context(), now, time.Hour, 3)
				if err != nil {
					errs <- err
					return
				}
				if len(ms) == 0 {
					return
				}
				mu.Lock()
				for _, m := range ms {
					seen[m.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("ClaimOutbox: %v", err)
	}
	if len(seen) != mails {
		t.Errorf("%d mails claimed, want %d", len(seen), mails)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("mail %s claimed %d times", id, n)
		}
	}
}
