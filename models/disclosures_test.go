package models_test

import (
	calendar "github.com/sendara/console/models/calendar"
	errs "github.com/sendara/console/models/errs"

	registers "github.com/sendara/console/models/registers"

	"context"
	"errors"
	"testing"

	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

func TestRecordDisclosureNamesWhatIsMissing(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	acme := newCustomer(t, db, "acme")
	today := calendar.Date{Year: 2026, Month: 6, Day: 1}
	good := func() registers.DisclosureInput {
		return registers.DisclosureInput{ReceivedOn: today.AddDays(-10), Authority: "US District Court, N.D. Cal.", Kind: "subpoena",
			CustomerID: acme.ID, Disclosed: "opt-out history of one number", DisclosedOn: today.AddDays(-2), CustomerTold: true}
	}
	tests := []struct {
		name  string
		edit  func(*registers.DisclosureInput)
		field string
	}{
		{"complete", func(*registers.DisclosureInput) {}, ""},
		{"no date received", func(in *registers.DisclosureInput) { in.ReceivedOn = calendar.Date{} }, "received_on"},
		{"received tomorrow", func(in *registers.DisclosureInput) { in.ReceivedOn = today.AddDays(1) }, "received_on"},
		{"no authority", func(in *registers.DisclosureInput) { in.Authority = "" }, "authority"},
		{"an unknown kind", func(in *registers.DisclosureInput) { in.Kind = "letter" }, "kind"},
		{"disclosed without a date", func(in *registers.DisclosureInput) { in.DisclosedOn = calendar.Date{} }, "disclosed_on"},
		{"a date without what", func(in *registers.DisclosureInput) { in.Disclosed = "" }, "disclosed"},
		{"disclosed before received", func(in *registers.DisclosureInput) { in.DisclosedOn = today.AddDays(-11) }, "disclosed_on"},
		{"not told, no reason", func(in *registers.DisclosureInput) { in.CustomerTold = false }, "not_told_reason"},
		{"not told, with a reason", func(in *registers.DisclosureInput) { in.CustomerTold, in.NotToldReason = false, "non-disclosure order" }, ""},
		{"nothing disclosed, no customer", func(in *registers.DisclosureInput) {
			in.CustomerID, in.Disclosed, in.DisclosedOn, in.CustomerTold = "", "", calendar.Date{}, false
		}, ""},
		{"an unknown customer", func(in *registers.DisclosureInput) { in.CustomerID = "00000000-0000-0000-0000-000000000000" }, "customer_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := good()
			tt.edit(&in)
			_, err := db.RecordDisclosure(context.Background(), modeltest.Staff, in, today)
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if v, ok := errs.AsValidation(err); !ok || v.Field != tt.field {
				t.Errorf("error %v, want one on %s", err, tt.field)
			}
		})
	}
	years, err := db.TransparencyReport(context.Background(), modeltest.Staff)
	if err != nil || len(years) != 1 {
		t.Fatalf("report: %v %v", years, err)
	}
	y := years[0]
	got := []int{y.Received, y.ByKind["subpoena"], y.Disclosed, y.NoneDisclosed, y.CustomerTold, y.NotTold}
	want := []int{3, 3, 2, 1, 1, 1}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("report (received, subpoenas, disclosed, none, told, not told) = %v, want %v", got, want)
			break
		}
	}
	if _, err := db.Disclosures(context.Background(), store.CustomerUser("u", "a@acme.test", acme.ID, "")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a customer reading the register: %v", err)
	}
}
