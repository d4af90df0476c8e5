package models_test

import (
	consent "github.com/sendara/console/models/consent"
	errs "github.com/sendara/console/models/errs"

	"context"
	"testing"
	"time"

	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// TestCheckAnswersConsentInThreeValues: the check tells "opted in" (an
// opt-in with evidence stands on the asked channel, nothing suppresses)
// apart from "no record", from the index and from the database alike.
func TestCheckAnswersConsentInThreeValues(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	base := time.Now().Add(-48 * time.Hour).UTC()
	record := func(in consent.ConsentInput) {
		t.Helper()
		if _, err := db.RecordConsent(ctx, modeltest.Staff, acme.ID, in, "US"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.CreateContact(ctx, modeltest.Staff, acme.ID, consent.ContactInput{Identifiers: []string{"+14155550102"}}, "US"); err != nil {
		t.Fatal(err)
	}
	record(consent.ConsentInput{To: "+14155550103", Kind: consent.OptIn, Evidence: "web form", OccurredAt: base})
	record(consent.ConsentInput{To: "+14155550104", Kind: consent.OptIn, Channel: consent.ChannelFaceTime, Evidence: "call", OccurredAt: base})
	record(consent.ConsentInput{To: "+14155550105", Kind: consent.OptOut, OccurredAt: base})
	record(consent.ConsentInput{To: "+14155550106", Kind: consent.OptIn, Evidence: "paper form", OccurredAt: base})
	record(consent.ConsentInput{To: "+14155550106", Kind: consent.OptOut, OccurredAt: base.Add(time.Hour)})
	record(consent.ConsentInput{To: "+14155550107", Kind: consent.OptIn, Evidence: "keyword START", OccurredAt: base})
	record(consent.ConsentInput{To: "+14155550107", Kind: consent.OptOut, Channel: consent.ChannelIMessage, OccurredAt: base.Add(time.Hour)})

	tests := []struct {
		name, to, channel string
		suppressed, optIn bool
	}{
		{"an unknown identifier has no record", "+14155550101", "", false, false},
		{"a contact without events has no record", "+14155550102", "", false, false},
		{"an opt-in on every channel is consent on any", "+14155550103", "", false, true},
		{"an opt-in on every channel is consent on one", "+14155550103", consent.ChannelIMessage, false, true},
		{"an opt-in on FaceTime is consent there", "+14155550104", consent.ChannelFaceTime, false, true},
		{"an opt-in on FaceTime is no record on iMessage", "+14155550104", consent.ChannelIMessage, false, false},
		{"an opt-in on FaceTime is not consent on every channel", "+14155550104", consent.ChannelAll, false, false},
		{"an opt-out is no consent", "+14155550105", "", true, false},
		{"a later opt-out revokes the opt-in", "+14155550106", consent.ChannelFaceTime, true, false},
		{"an opt-out on iMessage leaves FaceTime's opt-in", "+14155550107", consent.ChannelFaceTime, false, true},
		{"an opt-out on one channel is no consent on every channel", "+14155550107", "", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := store.NormalizeIdentifier("to", tc.to, "US")
			if err != nil {
				t.Fatal(err)
			}
			fromIndex, err := db.CheckSuppression(ctx, acme.ID, id, tc.channel)
			if err != nil {
				t.Fatal(err)
			}
			fromDB, err := db.CheckSuppressionInDB(ctx, acme.ID, id, tc.channel)
			if err != nil {
				t.Fatal(err)
			}
			batch, err := db.CheckSuppressions(ctx, acme.ID, []store.Identifier{id}, tc.channel)
			if err != nil {
				t.Fatal(err)
			}
			for where, got := range map[string]consent.Suppression{"index": fromIndex, "database": fromDB, "batch": batch[0]} {
				if got.Suppressed != tc.suppressed || got.OptedIn != tc.optIn {
					t.Errorf("%s: suppressed=%v opted_in=%v, want %v %v", where, got.Suppressed, got.OptedIn, tc.suppressed, tc.optIn)
				}
			}
		})
	}
}

// TestConsentAtTimeTellsOptedInFromNoRecord: the point-in-time answer is
// "no record" before the opt-in, "opted in" while it stands, and neither
// once an opt-out follows.
func TestConsentAtTimeTellsOptedInFromNoRecord(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	base := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	res, err := db.RecordConsent(ctx, modeltest.Staff, acme.ID, consent.ConsentInput{To: "+14155550103", Kind: consent.OptIn,
		Channel: consent.ChannelIMessage, Evidence: "web form", OccurredAt: base}, "US")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.RecordConsent(ctx, modeltest.Staff, acme.ID, consent.ConsentInput{To: "+14155550103", Kind: consent.OptOut,
		OccurredAt: base.Add(24 * time.Hour)}, "US"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name              string
		at                time.Time
		channel           string
		suppressed, optIn bool
	}{
		{"before the opt-in there is no record", base.Add(-time.Minute), consent.ChannelIMessage, false, false},
		{"while the opt-in stands it is consent", base.Add(time.Hour), consent.ChannelIMessage, false, true},
		{"the opt-in on iMessage is no consent on FaceTime", base.Add(time.Hour), consent.ChannelFaceTime, false, false},
		{"the opt-in on iMessage is no consent on every channel", base.Add(time.Hour), consent.ChannelAll, false, false},
		{"after the opt-out it is suppressed", base.Add(25 * time.Hour), consent.ChannelIMessage, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := db.ConsentAtTime(ctx, modeltest.Staff, res.Contact.ID, tc.at, tc.channel)
			if err != nil {
				t.Fatal(err)
			}
			if got.Suppressed != tc.suppressed || got.OptedIn != tc.optIn {
				t.Errorf("suppressed=%v opted_in=%v, want %v %v", got.Suppressed, got.OptedIn, tc.suppressed, tc.optIn)
			}
		})
	}
}

func TestParseChannelIsTheOneReadingOfAChannel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"", consent.ChannelAll, true},
		{"all", consent.ChannelAll, true},
		{" iMessage ", consent.ChannelIMessage, true},
		{"FACETIME", consent.ChannelFaceTime, true},
		{"sms", "", false},
		{"i message", "", false},
	}
	for _, tc := range tests {
		got, err := consent.ParseChannel(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("ParseChannel(%q) = %q, %v; want %q, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
		if v, isInvalid := errs.AsValidation(err); err != nil && (!isInvalid || v.Field != "channel") {
			t.Errorf("ParseChannel(%q): %v, want a validation error naming channel", tc.in, err)
		}
	}
}
