package models_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	customers "github.com/sendara/console/models/customers"

	outbox "github.com/sendara/console/models/outbox"

	requests "github.com/sendara/console/models/requests"

	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// receive delivers one message to the mailbox and fails the test on error.
func receive(t *testing.T, db *models.DB, in requests.MailIntake) (*requests.PrivacyRequest, bool) {
	t.Helper()
	if in.Raw == nil {
		in.Raw = []byte("From: " + in.FromAddr + "\r\nSubject: " + in.Subject + "\r\n\r\n" + in.Body)
	}
	r, created, err := db.ReceiveMail(context.Background(), calendar.DefaultBusiness(), "US", in)
	if err != nil {
		t.Fatalf("receive mail from %s: %v", in.FromAddr, err)
	}
	return r, created
}

// sendAll marks every queued mail sent, each with the Message-ID
// "<kind>-<reference of its request>@sendara.test".
func sendAll(t *testing.T, db *models.DB) {
	t.Helper()
	ctx := context.Background()
	ms, err := db.ClaimOutbox(ctx, time.Now(), time.Minute, 500)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ms {
		r, err := db.Request(ctx, modeltest.Staff, *ms[i].RequestID)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.MarkMailSent(ctx, &ms[i], ms[i].Kind+"-"+r.Reference+"@sendara.test", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
}

func inboundOf(t *testing.T, db *models.DB, requestID string) []outbox.InboundMail {
	t.Helper()
	ms, err := db.InboundMails(context.Background(), modeltest.Staff, outbox.InboundFilter{RequestID: requestID})
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func timelineHas(t *testing.T, db *models.DB, r *requests.PrivacyRequest, kind, text string) bool {
	t.Helper()
	events, err := db.Timeline(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(events, func(e store.RequestEvent) bool { return e.Kind == kind && strings.Contains(e.Text, text) })
}

func TestMailJoinsItsRequestByTheConsolesMessageIDsOrByAPartysReference(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme, err := db.CreateCustomer(ctx, modeltest.Staff, customers.CustomerInput{Slug: "acme", Name: "Acme", ContactEmail: "privacy@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateUser(ctx, modeltest.Staff, accounts.UserInput{Email: "admin@acme.test", Role: accounts.RoleCustomerAdmin,
		CustomerID: acme.ID, Password: "a long passphrase of ours"}); err != nil {
		t.Fatal(err)
	}
	jane, _ := receive(t, db, requests.MailIntake{MessageID: "j1@example.com", FromName: "Jane", FromAddr: "jane@example.com",
		Subject: "Delete my data", Body: "Please delete everything."})
	acmeReq := newRequest(t, db, requests.RequestInput{Type: calendar.TypeAccess, Requester: requests.Requester{Email: "sam@example.org"}, CustomerID: acme.ID})
	sendAll(t, db)

	tests := []struct {
		name       string
		in         requests.MailIntake
		join       *requests.PrivacyRequest // nil: opens a new request
		mentioning *requests.PrivacyRequest
	}{
		{"a reply to the acknowledgement from another address joins by In-Reply-To",
			requests.MailIntake{FromAddr: "jane.doe@work.example", InReplyTo: "acknowledgement-" + jane.Reference + "@sendara.test", Subject: "Re: your mail"}, jane, nil},
		{"a reply naming the console's mail in References only joins",
			requests.MailIntake{FromAddr: "someone@example.net", References: []string{"x@elsewhere", "acknowledgement-" + jane.Reference + "@sendara.test"}, Subject: "more"}, jane, nil},
		{"the requester naming the reference joins",
			requests.MailIntake{FromAddr: "JANE@example.com", Subject: "Re: " + jane.Reference, Reference: jane.Reference}, jane, nil},
		{"the controller's contact address naming the reference joins",
			requests.MailIntake{FromAddr: "privacy@acme.test", Subject: "About " + acmeReq.Reference, Reference: acmeReq.Reference}, acmeReq, nil},
		{"a user of the controller naming the reference joins",
			requests.MailIntake{FromAddr: "admin@acme.test", Subject: "About " + acmeReq.Reference, Reference: acmeReq.Reference}, acmeReq, nil},
		{"the console's Message-ID wins over a reference in the subject",
			requests.MailIntake{FromAddr: "someone@example.net", InReplyTo: "acknowledgement-" + acmeReq.Reference + "@sendara.test",
				Subject: "Re: " + jane.Reference, Reference: jane.Reference}, acmeReq, nil},
		{"a spoofed subject from a stranger opens a request mentioning the other",
			requests.MailIntake{FromAddr: "mallory@evil.example", Subject: "Re: " + jane.Reference + " cancel it", Reference: jane.Reference,
				Body: "Please withdraw my request."}, nil, jane},
		{"the controller's contact is no party of another controller's request",
			requests.MailIntake{FromAddr: "privacy@acme.test", Subject: "Re: " + jane.Reference, Reference: jane.Reference}, nil, jane},
		{"an unknown Message-ID and no reference opens a request",
			requests.MailIntake{FromAddr: "new@example.com", InReplyTo: "never-sent@sendara.test", Subject: "Hello"}, nil, nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.MessageID = "m" + string(rune('a'+i)) + "@example.net"
			got, created := receive(t, db, tt.in)
			if tt.join != nil {
				if created || got.ID != tt.join.ID {
					t.Fatalf("went to %s (new: %v), want %s", got.Reference, created, tt.join.Reference)
				}
				return
			}
			if !created || got.ID == jane.ID || got.ID == acmeReq.ID {
				t.Fatalf("went to %s (new: %v), want a new request", got.Reference, created)
			}
			in := inboundOf(t, db, got.ID)
			want := ""
			if tt.mentioning != nil {
				want = tt.mentioning.Reference
				if !timelineHas(t, db, got, "mention", "names "+want) || !timelineHas(t, db, tt.mentioning, "mention", got.Reference) {
					t.Errorf("the mention is not on both timelines")
				}
			}
			if len(in) != 1 || in[0].MentionsReference != want {
				t.Errorf("received mail %+v, want one mentioning %q", in, want)
			}
		})
	}
	if n := len(inboundOf(t, db, jane.ID)); n != 4 {
		t.Errorf("%s holds %d messages, want 4 (its own and the three that joined it)", jane.Reference, n)
	}
}

func TestMergedDuplicateIsCountedOnceAndKeepsItsTimeline(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	received := time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC)
	first := newRequest(t, db, requests.RequestInput{Type: calendar.TypeKnow, Regime: calendar.RegimeCCPA, ReceivedAt: received, Requester: requests.Requester{Email: "jane@example.com"}})
	second := newRequest(t, db, requests.RequestInput{Type: calendar.TypeKnow, Regime: calendar.RegimeCCPA, ReceivedAt: received.Add(time.Hour), Requester: requests.Requester{Email: "jane@example.com"}})
	third := newRequest(t, db, requests.RequestInput{Type: calendar.TypeKnow, Regime: calendar.RegimeCCPA, ReceivedAt: received, Requester: requests.Requester{Email: "sam@example.com"}})
	officer := store.StaffUser("u1", "officer@sendara.test", "")

	bad := []struct {
		name, id, into string
		conflict       bool
	}{
		{"no reference", second.ID, " ", false},
		{"an unknown reference", second.ID, "PR-2026-999999", false},
		{"itself", second.ID, second.Reference, false},
	}
	for _, tt := range bad {
		if err := db.MergeDuplicate(ctx, officer, tt.id, tt.into, ""); err == nil {
			t.Errorf("%s: merged", tt.name)
		}
	}
	if err := db.MergeDuplicate(ctx, store.CustomerUser("c", "", "x", ""), second.ID, first.Reference, ""); err == nil {
		t.Error("a customer user merged requests")
	}
	if err := db.MergeDuplicate(ctx, officer, second.ID, strings.ToLower(first.Reference), "same person, same ask"); err != nil {
		t.Fatalf("merge: %v", err)
	}
	for _, tt := range []struct{ name, id, into string }{
		{"a duplicate merged again", second.ID, third.Reference},
		{"into a duplicate", third.ID, second.Reference},
		{"a request holding duplicates into another", first.ID, third.Reference},
	} {
		if err := db.MergeDuplicate(ctx, officer, tt.id, tt.into, ""); err == nil {
			t.Errorf("%s: merged", tt.name)
		}
	}

	r, _ := db.Request(ctx, modeltest.Staff, second.ID)
	if r.Status != requests.StatusReceived {
		t.Errorf("the duplicate is %s, want still received (not withdrawn)", r.Status)
	}
	if !timelineHas(t, db, r, "merge", "Merged into "+first.Reference+" as a duplicate: same person, same ask") ||
		!timelineHas(t, db, first, "merge", second.Reference+" merged into this request") {
		t.Error("the merge is not on both timelines")
	}
	d, err := db.DuplicatesOf(ctx, modeltest.Staff, first.ID)
	if err != nil || d.Of != nil || len(d.Merged) != 1 || d.Merged[0].Reference != second.Reference || d.Merged[0].MergedBy != "officer@sendara.test" {
		t.Errorf("merges of the first: %+v %v", d, err)
	}
	if d, _ := db.DuplicatesOf(ctx, modeltest.Staff, second.ID); d.Of == nil || d.Of.Reference != first.Reference {
		t.Errorf("merges of the duplicate: %+v", d)
	}
	if d, _ := db.DuplicatesOf(ctx, store.CustomerUser("c", "", "x", ""), second.ID); d.Of != nil {
		t.Error("a customer user sees merges")
	}

	m, err := db.Metrics(ctx, modeltest.Staff, 2026, calendar.DefaultBusiness().Loc, "")
	if err != nil {
		t.Fatal(err)
	}
	if m.Total.Received != 2 {
		t.Errorf("the §7102 metrics count %d requests received, want 2 (the duplicate counted once, as the request it joined)", m.Total.Received)
	}
	b, err := db.DeadlineBoard(ctx, modeltest.Staff, calendar.TodayIn(calendar.DefaultBusiness().Loc), calendar.DefaultBusiness().Loc)
	if err != nil {
		t.Fatal(err)
	}
	for _, col := range b.Columns {
		for _, c := range col.Cards {
			if c.Request.ID == second.ID {
				t.Error("the duplicate is on the deadline board")
			}
		}
	}
	acts := auditActionsOf(t, db)
	if !slices.Contains(acts, "request.merge") || !slices.Contains(acts, "request.merge_into") {
		t.Errorf("the merge is not audited on both requests: %v", acts)
	}
}

func TestIdentifiersFoundInMailAreProposedAndAcceptedOneByOne(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	body := "Hi, please delete my data (PR-2026-000042 was my earlier one).\r\n" +
		"You texted me at (415) 555-0123 and also wrote to jane.doe@work.example.\r\n\r\n" +
		"--\r\nJane Doe\r\nMobile: +44 20 7946 0958\r\nJane@Example.com\r\n\r\n" +
		"On Mon, Sendara Privacy <privacy@sendara.example> wrote:\r\n> call us at +1 415 555 0199\r\n"
	r, _ := receive(t, db, requests.MailIntake{MessageID: "p1@example.com", FromAddr: "jane@example.com", Subject: "Delete me", Body: body})
	ps, err := db.IdentifierProposals(ctx, modeltest.Staff, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.Value+" "+p.Status)
	}
	want := []string{"+14155550123 proposed", "+442079460958 proposed", "jane.doe@work.example proposed"}
	if !slices.Equal(got, want) {
		t.Fatalf("proposals %v, want %v (the sender's own address is already an identifier; the quoted mail and the reference are not the sender's)", got, want)
	}
	if ps, _ := db.IdentifierProposals(ctx, store.CustomerUser("c", "", "x", ""), r.ID); len(ps) != 0 {
		t.Error("a customer user sees proposals")
	}

	officer := store.StaffUser("u1", "officer@sendara.test", "")
	if err := db.DecideIdentifierProposal(ctx, officer, r.ID, "+14155550123", true); err != nil {
		t.Fatalf("accept: %v", err)
	}
	if err := db.DecideIdentifierProposal(ctx, officer, r.ID, "jane.doe@work.example", false); err != nil {
		t.Fatalf("dismiss: %v", err)
	}
	for _, again := range []string{"+14155550123", "jane.doe@work.example", "+19999999999"} {
		if err := db.DecideIdentifierProposal(ctx, officer, r.ID, again, true); err == nil {
			t.Errorf("%s decided twice or never proposed, and accepted", again)
		}
	}
	after, _ := db.Request(ctx, modeltest.Staff, r.ID)
	if ids := after.Identifiers(); !slices.Equal(ids, []string{"jane@example.com", "+14155550123"}) {
		t.Errorf("subject identifiers %v: want the accepted one added, the dismissed one not", ids)
	}
	if found, _ := db.RequestsAbout(ctx, modeltest.Staff, []string{"+14155550123"}); len(found) != 1 {
		t.Errorf("the accepted identifier does not find the request: %d", len(found))
	}
	if !timelineHas(t, db, after, "identifier_accept", "+14155550123 added from the request's mail (not verified)") {
		t.Error("the acceptance is not on the timeline")
	}
	ps, _ = db.IdentifierProposals(ctx, modeltest.Staff, r.ID)
	if ps[0].Value != "+442079460958" || ps[1].Status != requests.ProposalAccepted || ps[1].DecidedBy != "officer@sendara.test" || ps[1].DecidedAt == nil {
		t.Errorf("proposals after deciding: %+v", ps)
	}
	if acts := auditActionsOf(t, db); !slices.Contains(acts, "request.identifier_accept") || !slices.Contains(acts, "request.identifier_dismiss") {
		t.Errorf("decisions not audited: %v", acts)
	}
}

func TestAMessageWithAnOverlongNameStillOpensARequest(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	r, created := receive(t, db, requests.MailIntake{MessageID: "long@example.com", FromName: strings.Repeat("Zoë ", 100), FromAddr: "zoe@example.com", Subject: "Hi"})
	if !created || len(r.RequesterName) > 200 || !strings.HasPrefix(r.RequesterName, "Zoë Zoë") {
		t.Errorf("request %v with name %q", created, r.RequesterName)
	}
}

func TestCleanNameLeavesNothingThatCanBreakAMail(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"Jane Doe", "Jane Doe"},
		{"Jane\r\nBcc: victim@example.com", "Jane Bcc: victim@example.com"},
		{"  Jane\tDoe\x00\x1b[31m ", "Jane Doe [31m"},
		{"Jane\u202eeoD\u200b", "Jane eoD"},
		{"Zoë\u2028Ng", "Zoë Ng"},
		{"\xffJane", "Jane"},
	}
	for _, tt := range tests {
		if got := requests.CleanName(tt.in); got != tt.want {
			t.Errorf("CleanName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// auditActionsOf lists the actions in the audit log.
func auditActionsOf(t *testing.T, db *models.DB) []string {
	t.Helper()
	var out []string
	for _, e := range auditActions(t, db, "request.") {
		out = append(out, e.Action)
	}
	return out
}
