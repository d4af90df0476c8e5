package models_test

import (
	calendar "github.com/sendara/console/models/calendar"
	consent "github.com/sendara/console/models/consent"

	requests "github.com/sendara/console/models/requests"

	"context"
	"testing"
	"time"

	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// A person who asked to stop contact stays suppressed at the customers
// that held them when a contact for one of their identifiers arrives later
// (a CRM import, an API call): the request's identifiers are kept as keyed
// hashes, like the erased list.
func TestAStopRequestKeepsLaterContactsOfThePersonSuppressed(t *testing.T) {
	t.Parallel()
	const lateEmail = "jane.late@example.com"
	cases := []struct {
		name   string
		in     requests.RequestInput
		reason string
		// an API opt-in for a new contact dated after the request
		optInAfterLifts bool
	}{
		{"an objection", requests.RequestInput{Type: calendar.TypeObjection, Regime: "gdpr"}, consent.ReasonObjection, false},
		{"an opt-out of sale", requests.RequestInput{Type: calendar.TypeOptOutSale, Regime: "ccpa"}, consent.ReasonObjection, false},
		{"plain words", requests.RequestInput{Type: calendar.TypeOther, Details: "Please stop texting me."}, consent.ReasonOptOut, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := modeltest.Open(t)
			ctx := context.Background()
			acme, other := mustCustomer(t, db, "acme"), mustCustomer(t, db, "other")
			if _, err := db.CreateContact(ctx, modeltest.Staff, acme.ID, consent.ContactInput{Identifiers: []string{janePhone}}, "US"); err != nil {
				t.Fatal(err)
			}
			in := tc.in
			in.Channel, in.Requester = "web_form", requests.Requester{Email: janeEmail}
			in.Identifiers = []string{janePhone, lateEmail, "+14155550177"}
			r, err := db.CreateRequest(ctx, modeltest.Staff, la(t), in, "US")
			if err != nil {
				t.Fatal(err)
			}
			email := store.Identifier{Kind: store.KindEmail, Value: lateEmail}
			// Nobody holds the email at Acme yet: the check answers from the hashes.
			if s, err := db.CheckSuppression(ctx, acme.ID, email, ""); err != nil || !s.Suppressed || s.Reason != tc.reason {
				t.Errorf("check before any contact has the email: %+v %v", s, err)
			}
			// The CRM (or an API call) creates a contact with the email.
			late, err := db.CreateContact(ctx, modeltest.Staff, acme.ID, consent.ContactInput{Identifiers: []string{"Jane.Late@Example.com"}}, "US")
			if err != nil {
				t.Fatal(err)
			}
			if !late.Suppressed {
				t.Fatal("a contact created after the stop request is reachable")
			}
			if s, err := db.CheckSuppression(ctx, acme.ID, email, "imessage"); err != nil || !s.Suppressed || s.Reason != tc.reason {
				t.Errorf("check after the contact arrived: %+v %v", s, err)
			}
			// An opt-in dated before the request never lifts it.
			before := r.ReceivedAt.Add(-time.Hour)
			if _, err := db.RecordConsent(ctx, modeltest.Staff, acme.ID, consent.ConsentInput{ContactID: late.ID, Kind: consent.OptIn, Evidence: "old CRM flag", OccurredAt: before}, "US"); err == nil {
				t.Error("an opt-in dated before the stop request lifted it")
			}
			// An opt-in the person gives afterwards lifts a plain opt-out
			// only, as on a contact that existed at intake; reversing the
			// person's own stop needs structured evidence.
			_, err = db.RecordConsent(ctx, modeltest.Staff, acme.ID, consent.ConsentInput{ContactID: late.ID, Kind: consent.OptIn, Evidence: "signed up again",
				EvidenceKind: "web_form", EvidenceRef: "signup-2291", OccurredAt: time.Now()}, "US")
			if (err == nil) != tc.optInAfterLifts {
				t.Errorf("an opt-in given after the request: %v, lifts=%v", err, tc.optInAfterLifts)
			}
			// An API opt-in that creates a contact for the third identifier.
			third := store.Identifier{Kind: store.KindPhone, Value: "+14155550177"}
			_, err = db.RecordConsent(ctx, modeltest.Staff, acme.ID, consent.ConsentInput{To: "+14155550177", Kind: consent.OptIn, Evidence: "crm sync", OccurredAt: before}, "US")
			if err == nil {
				t.Error("an API opt-in dated before the request created a reachable contact")
			}
			if s, err := db.CheckSuppression(ctx, acme.ID, third, ""); err != nil || !s.Suppressed {
				t.Errorf("the third identifier after a refused opt-in: %+v %v", s, err)
			}
			// Customers that did not hold the person at intake are not the
			// request's business (they were not informed).
			if c, err := db.CreateContact(ctx, modeltest.Staff, other.ID, consent.ContactInput{Identifiers: []string{lateEmail}}, "US"); err != nil || c.Suppressed {
				t.Errorf("another customer's new contact: %v %v", c, err)
			}
		})
	}
}
