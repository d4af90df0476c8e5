package models_test

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	errs "github.com/sendara/console/models/errs"

	registers "github.com/sendara/console/models/registers"

	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

func TestAddSubprocessorRefusesBadInputAndAStartBeforeTheObjectionWindowEnds(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	today := calendar.Date{Year: 2026, Month: 3, Day: 2}
	good := func() registers.SubprocessorInput {
		return registers.SubprocessorInput{Name: "Mailgun", Purpose: "outbound mail", Location: "United States",
			TransferSafeguard: "EU-US Data Privacy Framework", EffectiveOn: today.AddDays(30)}
	}
	tests := []struct {
		name  string
		edit  func(*registers.SubprocessorInput)
		field string
	}{
		{"no name", func(in *registers.SubprocessorInput) { in.Name = "" }, "name"},
		{"no purpose", func(in *registers.SubprocessorInput) { in.Purpose = " " }, "purpose"},
		{"no location", func(in *registers.SubprocessorInput) { in.Location = "" }, "location"},
		{"no safeguard", func(in *registers.SubprocessorInput) { in.TransferSafeguard = "" }, "transfer_safeguard"},
		{"no date", func(in *registers.SubprocessorInput) { in.EffectiveOn = calendar.Date{} }, "effective_on"},
		{"inside the 30-day window", func(in *registers.SubprocessorInput) { in.EffectiveOn = today.AddDays(29) }, "effective_on"},
		{"the day the window ends", func(in *registers.SubprocessorInput) {}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := good()
			tt.edit(&in)
			_, _, err := db.AddSubprocessor(context.Background(), modeltest.Staff, in, today, "")
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
}

func TestANewSubprocessorMailsEveryCustomerAndTakesObjectionsWithinItsWindow(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme, other := newCustomer(t, db, "acme"), newCustomer(t, db, "other")
	newUser(t, db, "admin@acme.test", accounts.RoleCustomerAdmin, acme.ID, "")
	newUser(t, db, "admin@other.test", accounts.RoleCustomerAdmin, other.ID, "")
	if err := db.SetObjectionDays(ctx, modeltest.Staff, 14); err != nil {
		t.Fatal(err)
	}
	today := calendar.TodayIn(calendar.DefaultBusiness().Loc)
	sp, mails, err := db.AddSubprocessor(ctx, modeltest.Staff, registers.SubprocessorInput{Name: "Mailgun", Purpose: "outbound mail",
		Location: "United States", TransferSafeguard: "SCCs", EffectiveOn: today.AddDays(14)}, today, "https://console.example")
	if err != nil || mails != 2 {
		t.Fatalf("add: %d mails, %v", mails, err)
	}
	var body string
	db.Gorm.Table("outbox").Where("to_addr = ?", "admin@acme.test").Pluck("body_text", &body)
	if !strings.Contains(body, "until "+today.AddDays(14).String()) || !strings.Contains(body, "Mailgun") {
		t.Errorf("the mail does not give the objection window: %s", body)
	}
	acmeUser := store.CustomerUser("u", "admin@acme.test", acme.ID, "")
	steps := []struct {
		name   string
		actor  store.Actor
		reason string
		day    calendar.Date
		ok     bool
	}{
		{"without a reason", acmeUser, " ", today, false},
		{"staff cannot object for a customer", modeltest.Staff, "no", today, false},
		{"within the window", acmeUser, "Our clients refuse US transfers.", today, true},
		{"twice", acmeUser, "again", today, false},
		{"after the window", store.CustomerUser("v", "admin@other.test", other.ID, ""), "late", today.AddDays(15), false},
	}
	for _, s := range steps {
		_, err := db.ObjectToSubprocessor(ctx, s.actor, sp.ID, s.reason, s.day)
		if (err == nil) != s.ok {
			t.Errorf("%s: %v, want ok %v", s.name, err, s.ok)
		}
	}
	all, err := db.SubprocessorObjections(ctx, modeltest.Staff)
	if err != nil || len(all) != 1 || all[0].CustomerName != acme.Name || all[0].SubprocessorName != "Mailgun" {
		t.Fatalf("staff see objections %+v (%v)", all, err)
	}
	if own, _ := db.SubprocessorObjections(ctx, store.CustomerUser("v", "admin@other.test", other.ID, "")); len(own) != 0 {
		t.Errorf("another customer sees %d objections", len(own))
	}
	if _, _, err := db.AddSubprocessor(ctx, acmeUser, registers.SubprocessorInput{}, today, ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a customer adding a sub-processor: %v", err)
	}
}

func TestAPolicyVersionIsMailedWithItsDateAndCannotStartInThePast(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := newCustomer(t, db, "acme")
	newUser(t, db, "admin@acme.test", accounts.RoleCustomerAdmin, acme.ID, "")
	today := calendar.Date{Year: 2026, Month: 3, Day: 2}
	tests := []struct {
		in    registers.PolicyVersionInput
		field string
	}{
		{registers.PolicyVersionInput{Version: "", Summary: "s", EffectiveOn: today}, "version"},
		{registers.PolicyVersionInput{Version: "2026-1", Summary: "", EffectiveOn: today}, "summary"},
		{registers.PolicyVersionInput{Version: "2026-1", Summary: "s", URL: "http://x", EffectiveOn: today}, "url"},
		{registers.PolicyVersionInput{Version: "2026-1", Summary: "s", EffectiveOn: today.AddDays(-1)}, "effective_on"},
		{registers.PolicyVersionInput{Version: "2026-1", Summary: "New retention section.", EffectiveOn: today.AddDays(30)}, ""},
		{registers.PolicyVersionInput{Version: "2026-1", Summary: "again", EffectiveOn: today.AddDays(30)}, "version"},
	}
	for i, tt := range tests {
		_, _, err := db.AddPolicyVersion(ctx, modeltest.Staff, tt.in, today, "")
		field := ""
		if v, ok := errs.AsValidation(err); ok {
			field = v.Field
		} else if c, ok := errs.AsConflict(err); ok {
			field = c.Field
		} else if err != nil {
			t.Fatal(err)
		}
		if field != tt.field {
			t.Errorf("case %d: error %v, want one on %q", i, err, tt.field)
		}
	}
	subjects := mailTo(t, db, "admin@acme.test")
	if len(subjects) != 1 || !strings.Contains(subjects[0], "privacy policy version 2026-1") {
		t.Errorf("mails: %q", subjects)
	}
	var body string
	db.Gorm.Table("outbox").Where("to_addr = ?", "admin@acme.test").Pluck("body_text", &body)
	if !strings.Contains(body, today.AddDays(30).String()) || strings.Contains(body, "object") {
		t.Errorf("the policy mail should give the date and no objection window: %s", body)
	}
}
