package models_test

import (
	calendar "github.com/sendara/console/models/calendar"
	consent "github.com/sendara/console/models/consent"

	"context"
	"testing"

	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

func TestAnErasedPersonCreatedAgainIsSuppressedAtOnce(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	other := mustCustomer(t, db, "other")
	subject(t, db, acme)
	r := instructed(t, db, calendar.TypeErasure, []string{janePhone})
	if _, err := db.EraseSubject(ctx, modeltest.Staff, r.ID); err != nil {
		t.Fatal(err)
	}
	// The CRM syncs the person back in.
	again, err := db.CreateContact(ctx, modeltest.Staff, acme.ID, consent.ContactInput{Identifiers: []string{"(415) 555-0123"}}, "US")
	if err != nil {
		t.Fatal(err)
	}
	if !again.Suppressed {
		t.Error("the re-created contact is reachable")
	}
	s, err := db.CheckSuppression(ctx, acme.ID, store.Identifier{Kind: store.KindPhone, Value: janePhone}, "imessage")
	if err != nil || !s.Suppressed || s.Reason != consent.ReasonErasure {
		t.Errorf("check after re-creation: %+v %v", s, err)
	}
	// The erasure at acme says nothing about the same number at another customer.
	elsewhere, err := db.CreateContact(ctx, modeltest.Staff, other.ID, consent.ContactInput{Identifiers: []string{janePhone}}, "US")
	if err != nil || elsewhere.Suppressed {
		t.Errorf("another customer's new contact: suppressed=%v %v", elsewhere != nil && elsewhere.Suppressed, err)
	}
}
