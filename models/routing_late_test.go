package models_test

import (
	calendar "github.com/sendara/console/models/calendar"
	consent "github.com/sendara/console/models/consent"

	customers "github.com/sendara/console/models/customers"

	outbox "github.com/sendara/console/models/outbox"

	requests "github.com/sendara/console/models/requests"

	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// An identifier verified after routing reaches the controllers holding it:
// a pending task of a customer is amended, a customer without one gets a
// new task, each mailed with both dates; the request waits for them again.
func TestAnIdentifierVerifiedAfterRoutingIsRoutedToTheControllersHoldingIt(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	const workEmail = "jane@work.example"
	cust := func(slug string) *customers.Customer {
		c, err := db.CreateCustomer(ctx, modeltest.Staff, customers.CustomerInput{Slug: slug, Name: strings.ToUpper(slug), ContactEmail: "privacy@" + slug + ".example"})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	contact := func(c *customers.Customer, id string) string {
		ct, err := db.CreateContact(ctx, modeltest.Staff, c.ID, consent.ContactInput{Identifiers: []string{id}}, "US")
		if err != nil {
			t.Fatal(err)
		}
		return ct.ID
	}
	// A holds the email (and later the work email); B the email and, on
	// another contact, the phone; C only the phone.
	a, b, c := cust("alpha"), cust("bravo"), cust("charlie")
	contact(a, janeEmail)
	contact(a, workEmail)
	contact(b, janeEmail)
	bPhone := contact(b, janePhone)
	cPhone := contact(c, janePhone)

	var token string
	public := store.SystemProcess("public-form", "public request form")
	r, err := db.CreateRequestThen(ctx, public, la(t), requests.RequestInput{Type: calendar.TypeAccess, Regime: "gdpr", Channel: "web_form",
		Identifiers: []string{janeEmail, janePhone, workEmail}, Requester: requests.Requester{Email: janeEmail}}, "US",
		func(tx *store.Tx, r *requests.PrivacyRequest) error {
			return requests.SendVerificationLink(tx, r.ID, func(tok string) string { token = tok; return "https://console.example/confirm/" + tok })
		})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.VerifyByLink(ctx, token, "203.0.113.9"); err != nil {
		t.Fatal(err)
	}
	res, err := db.Route(ctx, modeltest.Staff, la(t), r.ID, "https://console.example/inbox")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Tasks) != 2 {
		t.Fatalf("routed by the email to %d customers, want alpha and bravo", len(res.Tasks))
	}
	taskOf := func(customerID string) []requests.RoutedTask {
		ts, err := db.Tasks(ctx, modeltest.Staff, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		var out []requests.RoutedTask
		for _, task := range ts {
			if task.CustomerID == customerID {
				out = append(out, task)
			}
		}
		return out
	}
	if _, err := db.AnswerTask(ctx, customerActor(t, db, a), taskOf(a.ID)[0].ID, requests.TaskApproved, ""); err != nil {
		t.Fatal(err)
	}
	mailsBefore := func(customerID string) int {
		ms, _ := db.Outbox(ctx, modeltest.Staff, outbox.OutboxFilter{RequestID: r.ID, Kind: outbox.MailRouting})
		n := 0
		for _, m := range ms {
			if m.CustomerID != nil && *m.CustomerID == customerID {
				n++
			}
		}
		return n
	}
	bMails := mailsBefore(b.ID)

	if err := db.VerifyIdentifier(ctx, modeltest.Staff, la(t), r.ID, janePhone, "phone_call", "called back; Jane answered", "https://console.example/inbox"); err != nil {
		t.Fatal(err)
	}
	// Bravo's pending task now covers its phone contact too.
	bt := taskOf(b.ID)
	if len(bt) != 1 {
		t.Fatalf("bravo has %d tasks, want its one task amended", len(bt))
	}
	var ids []string
	_ = json.Unmarshal([]byte(bt[0].ContactIDs), &ids)
	if len(ids) != 2 || ids[1] != bPhone {
		t.Errorf("bravo's task covers %v, want its email contact and %s", ids, bPhone)
	}
	if mailsBefore(b.ID) != bMails+1 {
		t.Errorf("bravo was not mailed about the amendment")
	}
	if d := lastAuditDetails(t, db, "routed_task.amend", bt[0].ID); !strings.Contains(d, `"contacts_added":1`) {
		t.Errorf("the amendment's audit entry: %s", d)
	}
	// Charlie, who had nothing, gets a task of its own, mailed with both dates.
	ct := taskOf(c.ID)
	if len(ct) != 1 || ct[0].Status != requests.TaskPending || ct[0].ContactIDs != `["`+cPhone+`"]` {
		t.Fatalf("charlie's tasks: %+v", ct)
	}
	if d := lastAuditDetails(t, db, "routed_task.create", ct[0].ID); !strings.Contains(d, `"late":true`) {
		t.Errorf("the late task's audit entry: %s", d)
	}
	ms, _ := db.Outbox(ctx, modeltest.Staff, outbox.OutboxFilter{RequestID: r.ID, Kind: outbox.MailRouting})
	var charlieMail string
	for _, m := range ms {
		if m.ToAddr == "privacy@charlie.example" {
			charlieMail = m.BodyText
		}
	}
	r, _ = db.Request(ctx, modeltest.Staff, r.ID)
	if !strings.Contains(charlieMail, ct[0].DueOn.String()) || !strings.Contains(charlieMail, r.EffectiveDueOn().String()) {
		t.Errorf("charlie's routing mail does not give both dates (%s, %s):\n%s", ct[0].DueOn, r.EffectiveDueOn(), charlieMail)
	}
	if ct[0].DueOn.After(r.EffectiveDueOn()) {
		t.Errorf("the late task is due %s, after the person's date %s", ct[0].DueOn, r.EffectiveDueOn())
	}
	if tl := timelineText(t, db, r); !strings.Contains(tl, "Routed to the controllers holding it: BRAVO (amended") || !strings.Contains(tl, "CHARLIE (new task") {
		t.Errorf("the timeline does not say where the phone was routed:\n%s", tl)
	}
	if r.Status != requests.StatusWithController {
		t.Errorf("status %s, want with_controller", r.Status)
	}

	// Once every controller answered the request is in progress; a work
	// email verified then opens a new task at Alpha, whose own task was
	// answered, and the request waits for it again.
	for _, cu := range []*customers.Customer{b, c} {
		if _, err := db.AnswerTask(ctx, customerActor(t, db, cu), taskOf(cu.ID)[0].ID, requests.TaskApproved, ""); err != nil {
			t.Fatal(err)
		}
	}
	if r, _ = db.Request(ctx, modeltest.Staff, r.ID); r.Status != requests.StatusInProgress {
		t.Fatalf("status %s after every answer", r.Status)
	}
	if err := db.VerifyIdentifier(ctx, modeltest.Staff, la(t), r.ID, workEmail, "email_reply", "replied from it", "https://console.example/inbox"); err != nil {
		t.Fatal(err)
	}
	if at := taskOf(a.ID); len(at) != 2 || at[1].Status != requests.TaskPending {
		t.Errorf("alpha's tasks after the work email: %+v", at)
	}
	if r, _ = db.Request(ctx, modeltest.Staff, r.ID); r.Status != requests.StatusWithController {
		t.Errorf("status %s, want with_controller while alpha's new task is open", r.Status)
	}
}
