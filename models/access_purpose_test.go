package models_test

import (
	calendar "github.com/sendara/console/models/calendar"
	consent "github.com/sendara/console/models/consent"

	requests "github.com/sendara/console/models/requests"

	"context"
	"strings"
	"testing"

	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

func TestAccessPurposeIsAReferenceOrAReason(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	r := newRequest(t, db, requests.RequestInput{Type: calendar.TypeAccess, Regime: calendar.RegimeGDPR,
		Requester: requests.Requester{Email: "jane@example.com"}})
	tests := []struct {
		in, purpose, ref string
		bad              bool
	}{
		{in: r.Reference, purpose: r.Reference, ref: r.Reference},
		{in: "  " + strings.ToLower(r.Reference) + " ", purpose: r.Reference, ref: r.Reference},
		{in: "PR-2099-999999", bad: true}, // no such request
		{in: "checking a reported missing opt-out", purpose: "checking a reported missing opt-out"},
		{in: "curious", bad: true}, // too short to be a reason
		{in: "   ", bad: true},     // empty
		{in: "two\nlines of reason", bad: true},
		{in: strings.Repeat("é", 201), bad: true},
	}
	for _, tt := range tests {
		purpose, ref, err := db.ParsePurpose(ctx, tt.in)
		if tt.bad {
			if err == nil || !strings.Contains(err.Error(), "purpose") {
				t.Errorf("%q: %v, want an error naming the purpose", tt.in, err)
			}
			continue
		}
		if err != nil || purpose != tt.purpose || ref != tt.ref {
			t.Errorf("%q: %q, %q, %v; want %q, %q", tt.in, purpose, ref, err, tt.purpose, tt.ref)
		}
	}
}

func TestAccessPurposeIsRememberedPerSessionAndContact(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	jane, err := db.CreateContact(ctx, modeltest.Staff, acme.ID, consent.ContactInput{Identifiers: []string{"+14155550123"}}, "US")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.StatePurpose(ctx, modeltest.Staff, "session-a", jane.ID, "checking a reported missing opt-out"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		session, contact string
		want             bool
	}{
		{"session-a", jane.ID, true},
		{"session-b", jane.ID, false},
		{"session-a", "01900000-0000-7000-8000-000000000000", false},
	}
	for _, tt := range tests {
		p, err := db.CurrentPurpose(ctx, tt.session, tt.contact)
		if err != nil || (p != nil) != tt.want {
			t.Errorf("%s/%s: %+v, %v", tt.session, tt.contact, p, err)
		}
	}
	exec(t, db, "UPDATE access_purposes SET expires_at = ?", store.Now().Add(-requests.PurposeLifetime))
	if p, err := db.CurrentPurpose(ctx, "session-a", jane.ID); err != nil || p != nil {
		t.Errorf("an expired purpose is still in force: %+v, %v", p, err)
	}
	// Another tenant's customer cannot state a purpose for it (404).
	bright := mustCustomer(t, db, "bright")
	if _, err := db.StatePurpose(ctx, customerActor(t, db, bright), "session-c", jane.ID, "checking something here"); err != store.ErrNotFound {
		t.Errorf("another tenant: %v", err)
	}
}
