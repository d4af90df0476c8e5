package models_test

import (
	calendar "github.com/sendara/console/models/calendar"
	casework "github.com/sendara/console/models/casework"

	consent "github.com/sendara/console/models/consent"

	customers "github.com/sendara/console/models/customers"

	errs "github.com/sendara/console/models/errs"

	fulfilment "github.com/sendara/console/models/fulfilment"

	outbox "github.com/sendara/console/models/outbox"

	requests "github.com/sendara/console/models/requests"

	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// lastAuditDetails is the details of the newest audit entry of action about
// object, as stored.
func lastAuditDetails(t *testing.T, db *models.DB, action, objectID string) string {
	t.Helper()
	var details string
	if err := db.Gorm.Raw("SELECT details FROM audit_events WHERE action = ? AND object_id = ? ORDER BY seq DESC LIMIT 1",
		action, objectID).Scan(&details).Error; err != nil {
		t.Fatal(err)
	}
	return details
}

// requesterMail is the newest mail of kind to the requester of r.
func requesterMail(t *testing.T, db *models.DB, r *requests.PrivacyRequest, kind string) *outbox.OutboxMail {
	t.Helper()
	ms, err := db.Outbox(context.Background(), modeltest.Staff, outbox.OutboxFilter{RequestID: r.ID, Kind: kind})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.ToAddr == r.RequesterEmail {
			return &m
		}
	}
	t.Fatalf("no %s mail to %s", kind, r.RequesterEmail)
	return nil
}

func timelineText(t *testing.T, db *models.DB, r *requests.PrivacyRequest) string {
	t.Helper()
	evs, err := db.Timeline(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range evs {
		b.WriteString(e.Text + "\n")
	}
	return b.String()
}

func TestCompletionWhileAControllerHasNotAnsweredNeedsAnOverride(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme, bright := mustCustomer(t, db, "acme"), mustCustomer(t, db, "bright")
	subject(t, db, acme)
	subject(t, db, bright)
	r := newRequest(t, db, requests.RequestInput{Type: calendar.TypeErasure, Regime: "gdpr", Identifiers: []string{janePhone},
		Requester: requests.Requester{Email: janeEmail}})
	if _, err := db.VerifyManually(ctx, modeltest.Staff, r.ID, "phone_call", "called back"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Route(ctx, modeltest.Staff, la(t), r.ID, "https://console.example/inbox"); err != nil {
		t.Fatal(err)
	}
	acmeTask, _ := db.Inbox(ctx, customerActor(t, db, acme), false)
	if _, err := db.AnswerTask(ctx, customerActor(t, db, acme), acmeTask[0].ID, requests.TaskApproved, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := db.EraseSubject(ctx, modeltest.Staff, r.ID); err == nil {
		t.Fatal("erasure ran with a controller still to answer: the request is not in progress")
	}

	_, err := db.ChangeStatus(ctx, modeltest.Staff, r.ID, fulfilment.StatusChange{To: requests.StatusCompleted})
	cf, ok := errs.AsConflict(err)
	if !ok || cf.Field != "override" || !strings.Contains(cf.Message, bright.Name) || strings.Contains(cf.Message, acme.Name) {
		t.Fatalf("completing with Bright's task pending: %v, want a conflict naming %s only", err, bright.Name)
	}
	if got, _ := db.Request(ctx, modeltest.Staff, r.ID); got.Status != requests.StatusWithController {
		t.Fatalf("a refused completion changed the status to %s", got.Status)
	}

	const why = "Bright Smile closed its account; the person asked us to finish"
	done, err := db.ChangeStatus(ctx, modeltest.Staff, r.ID, fulfilment.StatusChange{To: requests.StatusCompleted, Override: why})
	if err != nil {
		t.Fatal(err)
	}
	if got := requests.OutcomeOf(done.Status, done.Outcome); got != requests.OutcomeCompliedInPart {
		t.Errorf("outcome %q (%s), want complied in part: Bright never answered and nothing was erased", got, done.Outcome)
	}
	if tl := timelineText(t, db, done); !strings.Contains(tl, "Override: "+why) {
		t.Errorf("the timeline lacks the override reason:\n%s", tl)
	}
	if d := lastAuditDetails(t, db, "request.status", r.ID); !strings.Contains(d, why) || !strings.Contains(d, bright.Name) {
		t.Errorf("the audit entry lacks the override and who had not answered: %s", d)
	}
	body := requesterMail(t, db, done, outbox.MailCompletion).BodyText
	for _, want := range []string{bright.Name + " has not answered", acme.Name + " agreed, but Sendara has not carried it out"} {
		if !strings.Contains(body, want) {
			t.Errorf("the completion mail lacks %q:\n%s", want, body)
		}
	}
}

func TestTheOutcomeIsInWholeOnlyWhenEveryControllerCompliedAndSendaraActed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		denyAcme  bool
		erase     bool
		note      string
		want      string
		mailLines []string // in the completion mail
		logReason string   // in the §7101 log
	}{
		{name: "both approved, erased", erase: true, want: requests.OutcomeComplied,
			mailLines: []string{"- ACME: your data was erased.", "- BRIGHT: your data was erased."}},
		{name: "both approved, nothing erased", erase: false, want: requests.OutcomeCompliedInPart,
			mailLines: []string{"- ACME agreed, but Sendara has not carried it out."}, logReason: "ACME agreed but Sendara did not act"},
		{name: "one refused, the other erased", denyAcme: true, erase: true, want: requests.OutcomeCompliedInPart,
			mailLines: []string{"- ACME refused your request: we must keep this person's data for an open contract", "- BRIGHT: your data was erased."},
			logReason: "ACME refused: we must keep this person's data for an open contract"},
		{name: "staff record a partial answer", erase: true, note: "Partial: the call recordings are with another processor",
			want: requests.OutcomeCompliedInPart, logReason: "Partial: the call recordings are with another processor"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := modeltest.Open(t)
			ctx := context.Background()
			acme, bright := mustCustomer(t, db, "acme"), mustCustomer(t, db, "bright")
			subject(t, db, acme)
			subject(t, db, bright)
			var deny []*customers.Customer
			if tc.denyAcme {
				deny = append(deny, acme)
			}
			r := instructed(t, db, calendar.TypeErasure, []string{janePhone}, deny...)
			if tc.erase {
				if _, err := db.EraseSubject(ctx, modeltest.Staff, r.ID); err != nil {
					t.Fatal(err)
				}
			}
			done, err := db.ChangeStatus(ctx, modeltest.Staff, r.ID, fulfilment.StatusChange{To: requests.StatusCompleted, Note: tc.note})
			if err != nil {
				t.Fatal(err)
			}
			if got := requests.OutcomeOf(done.Status, done.Outcome); got != tc.want {
				t.Errorf("outcome %q (%q), want %q", got, done.Outcome, tc.want)
			}
			body := requesterMail(t, db, done, outbox.MailCompletion).BodyText
			for _, want := range tc.mailLines {
				if !strings.Contains(body, want) {
					t.Errorf("the completion mail lacks %q:\n%s", want, body)
				}
			}
			var row casework.RequestLogRow
			if _, err := db.RequestLog(ctx, modeltest.Staff, done.ReceivedAt.Add(-time.Second), done.ReceivedAt.Add(time.Second), la(t).Loc, func(lr casework.RequestLogRow) error {
				row = lr
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if row.Outcome != tc.want || !strings.Contains(row.DenialReason, tc.logReason) {
				t.Errorf("request log: outcome %q, basis %q; want %q with %q", row.Outcome, row.DenialReason, tc.want, tc.logReason)
			}
			m, err := db.Metrics(ctx, modeltest.Staff, done.ReceivedAt.In(la(t).Loc).Year(), la(t).Loc, "")
			if err != nil {
				t.Fatal(err)
			}
			whole, part := 0, 0
			if tc.want == requests.OutcomeComplied {
				whole = 1
			} else {
				part = 1
			}
			if m.Total.Complied != whole || m.Total.CompliedInPart != part {
				t.Errorf("§7102: complied %d, in part %d; want %d and %d", m.Total.Complied, m.Total.CompliedInPart, whole, part)
			}
		})
	}
}

var linkPattern = regexp.MustCompile(`https://console\.example/exports/requests/([A-Za-z0-9_-]+)`)

func bundleLinkIn(t *testing.T, body string) string {
	t.Helper()
	m := linkPattern.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no bundle link in the mail:\n%s", body)
	}
	return m[1]
}

func TestTheCompletionMailCarriesASingleUseBundleLinkThatStaffCanReissue(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	subject(t, db, acme)
	r := instructed(t, db, calendar.TypeAccess, []string{janePhone})
	staffLink, err := db.ExportBundle(ctx, modeltest.Staff, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	linkFor := func(token string) string { return "https://console.example/exports/requests/" + token }
	done, err := db.ChangeStatus(ctx, modeltest.Staff, r.ID, fulfilment.StatusChange{To: requests.StatusCompleted, LinkFor: linkFor})
	if err != nil {
		t.Fatal(err)
	}
	if got := requests.OutcomeOf(done.Status, done.Outcome); got != requests.OutcomeComplied {
		t.Errorf("an access request answered with a bundle: %q (%s), want complied", got, done.Outcome)
	}
	body := requesterMail(t, db, done, outbox.MailCompletion).BodyText
	if !strings.Contains(body, acme.Name+": your data is in the copy linked below.") || !strings.Contains(body, "works once") {
		t.Errorf("the completion mail does not say what was done and how the link works:\n%s", body)
	}
	token := bundleLinkIn(t, body)
	if _, err := db.DownloadExport(ctx, modeltest.Staff, staffLink.Token); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the link shown to staff still works after the mail's was issued: %v", err)
	}
	if _, err := db.DownloadExport(ctx, modeltest.Staff, token); err != nil {
		t.Fatalf("the mailed link: %v", err)
	}
	if _, err := db.DownloadExport(ctx, modeltest.Staff, token); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the mailed link worked twice: %v", err)
	}

	if err := db.ResendCompletion(ctx, modeltest.Staff, r.ID, linkFor); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(lastAuditDetails(t, db, "request.completion_resend", r.ID), done.Reference) {
		t.Error("sending the completion mail again is not audited")
	}
	again := bundleLinkIn(t, requesterMail(t, db, done, outbox.MailCompletion).BodyText)
	if again == token {
		t.Fatal("the mail sent again carries the spent link")
	}
	if _, err := db.DownloadExport(ctx, modeltest.Staff, again); err != nil {
		t.Errorf("the re-sent link: %v", err)
	}
	if d := lastAuditDetails(t, db, "request.export_reissue", r.ID); !strings.Contains(d, "completion mail") {
		t.Errorf("a re-issued link is not audited with its purpose: %s", d)
	}
	if err := db.ResendCompletion(ctx, customerActor(t, db, acme), r.ID, linkFor); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a customer sent the completion mail again: %v", err)
	}
}

func TestAStopRequestSuppressesAtIntakeFromEveryChannel(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		in         requests.RequestInput
		mail       *requests.MailIntake
		suppressed bool
		reason     string
	}{
		{name: "objection by staff", in: requests.RequestInput{Type: calendar.TypeObjection, Channel: "manual"}, suppressed: true, reason: consent.ReasonObjection},
		{name: "opt-out of sale by API", in: requests.RequestInput{Type: calendar.TypeOptOutSale, Regime: "ccpa", Channel: "api"}, suppressed: true, reason: consent.ReasonObjection},
		{name: "restriction by the public form", in: requests.RequestInput{Type: calendar.TypeRestriction, Channel: "web_form"}, suppressed: true, reason: consent.ReasonRestriction},
		{name: "plain words by the public form", in: requests.RequestInput{Type: calendar.TypeOther, Channel: "web_form", Details: "Please stop texting me."}, suppressed: true, reason: consent.ReasonOptOut},
		{name: "plain words by mail", mail: &requests.MailIntake{MessageID: "stop@example.com", FromAddr: janeEmail, Subject: "texts",
			Body: "Stop texting me, I never signed up.", Raw: []byte("Subject: texts\r\n\r\nStop texting me, I never signed up.\r\n")}, suppressed: true, reason: consent.ReasonOptOut},
		{name: "an access request", in: requests.RequestInput{Type: calendar.TypeAccess, Channel: "manual"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := modeltest.Open(t)
			ctx := context.Background()
			acme, bright := mustCustomer(t, db, "acme"), mustCustomer(t, db, "bright")
			// Plain contacts, no opt-out in their history yet; a mail
			// carries only its sender's address, which Acme holds too.
			for _, at := range []struct {
				c   *customers.Customer
				ids []string
			}{{acme, []string{janePhone, janeEmail}}, {bright, []string{janeEmail}}} {
				if _, err := db.CreateContact(ctx, modeltest.Staff, at.c.ID, consent.ContactInput{Identifiers: at.ids}, "US"); err != nil {
					t.Fatal(err)
				}
			}
			var r *requests.PrivacyRequest
			var err error
			if tc.mail != nil {
				r, _, err = db.ReceiveMail(ctx, la(t), "US", *tc.mail)
			} else {
				in := tc.in
				in.Requester = requests.Requester{Email: janeEmail}
				in.Identifiers = []string{janePhone, janeEmail}
				r, err = db.CreateRequest(ctx, modeltest.Staff, la(t), in, "US")
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.VerifiedAt != nil {
				t.Fatal("the request is verified already; the test must show suppression before verification")
			}
			for _, at := range []struct {
				c  *customers.Customer
				id store.Identifier
			}{{acme, store.Identifier{Kind: store.KindPhone, Value: janePhone}}, {bright, store.Identifier{Kind: store.KindEmail, Value: janeEmail}}} {
				s, err := db.CheckSuppression(ctx, at.c.ID, at.id, "")
				if err != nil {
					t.Fatal(err)
				}
				if s.Suppressed != tc.suppressed || (tc.suppressed && s.Reason != tc.reason) {
					t.Errorf("%s right after intake: suppressed %v (%s), want %v (%s)", at.c.Slug, s.Suppressed, s.Reason, tc.suppressed, tc.reason)
				}
			}
			var n int64
			db.Gorm.Model(&consent.ConsentEvent{}).Where("source = ? AND evidence = ?", "privacy_request", "privacy request "+r.Reference).Count(&n)
			if want := map[bool]int64{true: 2, false: 0}[tc.suppressed]; n != want {
				t.Errorf("%d consent events of source privacy_request, want %d", n, want)
			}
		})
	}
}

// A request from the public form, confirmed by the link sent to the
// requester's email, names a stranger's phone too: nothing is found by the
// phone until staff verify it.
func TestConfirmingTheRequestersEmailDoesNotUnlockAnotherIdentifier(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	const stranger = "+14155550999"
	mine, theirs := mustCustomer(t, db, "mine"), mustCustomer(t, db, "theirs")
	if _, err := db.CreateContact(ctx, modeltest.Staff, mine.ID, consent.ContactInput{Identifiers: []string{janeEmail}}, "US"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateContact(ctx, modeltest.Staff, theirs.ID, consent.ContactInput{Identifiers: []string{stranger}, Name: "A Stranger"}, "US"); err != nil {
		t.Fatal(err)
	}
	var token string
	public := store.SystemProcess("public-form", "public request form")
	r, err := db.CreateRequestThen(ctx, public, la(t), requests.RequestInput{Type: calendar.TypeAccess, Regime: "gdpr", Channel: "web_form",
		Identifiers: []string{janeEmail, stranger}, Requester: requests.Requester{Email: janeEmail}}, "US",
		func(tx *store.Tx, r *requests.PrivacyRequest) error {
			return requests.SendVerificationLink(tx, r.ID, func(tok string) string { token = tok; return "https://console.example/confirm/" + tok })
		})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.VerifyByLink(ctx, token, "203.0.113.9"); err != nil {
		t.Fatal(err)
	}
	usable, err := db.UsableIdentifiers(ctx, r)
	if err != nil || len(usable) != 1 || usable[0] != janeEmail {
		t.Fatalf("usable after the email link: %v, %v; want only %s", usable, err, janeEmail)
	}
	res, err := db.Route(ctx, modeltest.Staff, la(t), r.ID, "https://console.example/inbox")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Tasks) != 1 || res.Tasks[0].CustomerID != mine.ID {
		t.Fatalf("routed to %+v; want only the customer holding the confirmed email", res.Tasks)
	}
	if got, _ := db.Inbox(ctx, customerActor(t, db, theirs), true); len(got) != 0 {
		t.Errorf("the stranger's business was told about the request: %+v", got)
	}
	if _, err := db.AnswerTask(ctx, customerActor(t, db, mine), res.Tasks[0].ID, requests.TaskApproved, ""); err != nil {
		t.Fatal(err)
	}
	b, err := db.ExportBundle(ctx, modeltest.Staff, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range unzip(t, b.Export.Data) {
		if strings.Contains(body, stranger) || strings.Contains(body, "A Stranger") || strings.HasPrefix(name, "theirs/") {
			t.Errorf("the bundle holds the stranger's data in %s", name)
		}
	}
	if err := db.VerifyIdentifier(ctx, modeltest.Staff, la(t), r.ID, stranger, "phone_call", "called the number back; Jane answered", "https://console.example/inbox"); err != nil {
		t.Fatal(err)
	}
	if usable, _ := db.UsableIdentifiers(ctx, r); len(usable) != 2 {
		t.Errorf("after staff verified the phone: %v, want both identifiers", usable)
	}
	if err := db.VerifyIdentifier(ctx, modeltest.Staff, la(t), r.ID, stranger, "phone_call", "again", "https://console.example/inbox"); !isValidation(err, "identifier") {
		t.Errorf("verifying an identifier twice: %v", err)
	}
}
