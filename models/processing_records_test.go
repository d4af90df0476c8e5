package models_test

import (
	calendar "github.com/sendara/console/models/calendar"
	consent "github.com/sendara/console/models/consent"

	registers "github.com/sendara/console/models/registers"

	"context"
	"errors"
	"testing"

	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

func TestTheArt30RecordListsWhatTheConsoleHoldsForTheCustomer(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme, other := newCustomer(t, db, "acme"), newCustomer(t, db, "other")
	if _, err := db.CreateContact(ctx, modeltest.Staff, acme.ID, consent.ContactInput{Identifiers: []string{"+14155550101"}}, "US"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateContact(ctx, modeltest.Staff, other.ID, consent.ContactInput{Identifiers: []string{"+14155550102"}}, "US"); err != nil {
		t.Fatal(err)
	}
	today := calendar.TodayIn(calendar.DefaultBusiness().Loc)
	for _, sp := range []registers.SubprocessorInput{
		{Name: "Mailgun", Purpose: "mail", Location: "United States", TransferSafeguard: "EU-US DPF", EffectiveOn: today.AddDays(30)},
		{Name: "Hetzner", Purpose: "hosting", Location: "Germany", TransferSafeguard: "none needed (EU)", EffectiveOn: today.AddDays(30)},
		{Name: "AWS", Purpose: "backups", Location: "US-East (Virginia)", TransferSafeguard: "SCCs", EffectiveOn: today.AddDays(30)},
	} {
		if _, _, err := db.AddSubprocessor(ctx, modeltest.Staff, sp, today, ""); err != nil {
			t.Fatal(err)
		}
	}
	// Not yet in effect today: the record lists none.
	rec, err := db.ProcessingRecordFor(ctx, modeltest.Staff, acme.ID, today)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Subprocessors) != 0 {
		t.Errorf("%d sub-processors before they start, want 0", len(rec.Subprocessors))
	}
	rec, err = db.ProcessingRecordFor(ctx, modeltest.Staff, acme.ID, today.AddDays(31))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		what string
		got  int
		want int
	}{
		{"sub-processors in effect", len(rec.Subprocessors), 3},
		{"transfers to the US (United States, US-East)", len(rec.Transfers), 2},
		{"acme's contacts only", int(rec.Categories[0].Rows), 1},
		{"security measures", len(rec.Security), len(registers.SecurityMeasures)},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: %d, want %d", tt.what, tt.got, tt.want)
		}
	}
	if rows := rec.Rows(); rows[0][0] != "controller" || rows[0][1] != acme.Name {
		t.Errorf("CSV starts with %q", rows[0])
	}
	if _, err := db.ProcessingRecordFor(ctx, store.CustomerUser("u", "a@other.test", other.ID, ""), acme.ID, today); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another customer's record: %v, want ErrNotFound", err)
	}
}
