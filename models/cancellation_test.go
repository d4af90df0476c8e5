package models_test

import (
	accounts "github.com/sendara/console/models/accounts"
	consent "github.com/sendara/console/models/consent"

	customers "github.com/sendara/console/models/customers"

	errs "github.com/sendara/console/models/errs"

	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
	registers "github.com/sendara/console/models/registers"
)

// mailTo lists the subjects of the outbox mails to addr, oldest first.
func mailTo(t *testing.T, db *models.DB, addr string) []string {
	t.Helper()
	var subjects []string
	if err := db.Gorm.Table("outbox").Where("to_addr = ?", addr).Order("created_at, id").Pluck("subject", &subjects).Error; err != nil {
		t.Fatal(err)
	}
	return subjects
}

func customerStatus(t *testing.T, db *models.DB, id string) string {
	t.Helper()
	c, err := db.Customer(context.Background(), modeltest.Staff, id)
	if err != nil {
		t.Fatal(err)
	}
	return c.Status
}

func TestACancelledCustomerComesBackWithEverythingWithinTheWindow(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := newCustomer(t, db, "acme")
	newUser(t, db, "admin@acme.test", accounts.RoleCustomerAdmin, acme.ID, "")
	contact, err := db.CreateContact(ctx, modeltest.Staff, acme.ID, consent.ContactInput{Identifiers: []string{"+14155550101"}}, "US")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CancelCustomer(ctx, modeltest.Staff, acme.ID); err != nil {
		t.Fatal(err)
	}
	subjects := mailTo(t, db, "admin@acme.test")
	wantEnd := time.Now().UTC().AddDate(0, 0, 30).Format("2 January 2006")
	if len(subjects) != 1 || !strings.Contains(subjects[0], "reactivate before "+wantEnd) {
		t.Fatalf("mail on cancellation: %q, want one saying reactivate before %s", subjects, wantEnd)
	}
	if err := db.ReactivateCustomer(ctx, modeltest.Staff, acme.ID); err != nil {
		t.Fatal(err)
	}
	if got := customerStatus(t, db, acme.ID); got != customers.CustomerActive {
		t.Errorf("status after reactivation %s", got)
	}
	if _, err := db.Contact(ctx, modeltest.Staff, contact.ID); err != nil {
		t.Errorf("the contact did not come back: %v", err)
	}
	if subjects := mailTo(t, db, "admin@acme.test"); len(subjects) != 2 || subjects[1] != "Your Sendara account is active again" {
		t.Errorf("mail on reactivation: %q", subjects)
	}
	if len(auditEvents(t, db, "customer.reactivate")) != 1 {
		t.Error("the reactivation is not audited")
	}
}

func TestTheReactivationWindowIsConfigurableAndEndsReactivation(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	if _, err := db.SetRetentionDays(ctx, modeltest.Staff, registers.RetainCancelledAccounts, "10"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name        string
		cancelledAt time.Time
		comesBack   bool
	}{
		{"nine days after cancelling", time.Now().AddDate(0, 0, -9), true},
		{"eleven days after cancelling", time.Now().AddDate(0, 0, -11), false},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCustomer(t, db, "c"+string(rune('a'+i)))
			if err := db.CancelCustomer(ctx, modeltest.Staff, c.ID); err != nil {
				t.Fatal(err)
			}
			execSQL(t, db, "UPDATE customers SET cancelled_at = ? WHERE id = ?", tc.cancelledAt, c.ID)
			counts, err := db.RetentionPreview(ctx, modeltest.Staff, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			due := byCategory(counts)[registers.RetainCancelledAccounts][c.Name] == 1
			if due == tc.comesBack {
				t.Errorf("due for closing: %v", due)
			}
			err = db.ReactivateCustomer(ctx, modeltest.Staff, c.ID)
			if cf, ok := errs.AsConflict(err); tc.comesBack && err != nil || !tc.comesBack && (!ok || !strings.Contains(cf.Message, "window")) {
				t.Errorf("reactivation: %v", err)
			}
		})
	}
}

func TestClosingACustomerLeavesOnlyWhatTheLawAndTheOptOutsNeed(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme, beta := newCustomer(t, db, "acme"), newCustomer(t, db, "beta")
	newUser(t, db, "admin@acme.test", accounts.RoleCustomerAdmin, acme.ID, "")
	newContact := func(c *customers.Customer, id string) *consent.Contact {
		k, err := db.CreateContact(ctx, modeltest.Staff, c.ID, consent.ContactInput{Identifiers: []string{id}, Name: "Someone"}, "US")
		if err != nil {
			t.Fatal(err)
		}
		communication(t, db, k, time.Now().Add(-time.Hour))
		return k
	}
	optedOut, plain, held := newContact(acme, "+14155550101"), newContact(acme, "+14155550102"), newContact(acme, "+14155550103")
	other := newContact(beta, "+14155550101")
	if _, err := db.RecordConsent(ctx, modeltest.Staff, acme.ID, consent.ConsentInput{ContactID: optedOut.ID, Kind: consent.OptOut}, "US"); err != nil {
		t.Fatal(err)
	}
	execSQL(t, db, "INSERT INTO legal_holds (customer_id, id, contact_id, reason, created_by, created_at) VALUES (?, ?, ?, 'litigation', 'test', ?)",
		acme.ID, uuid.NewString(), held.ID, time.Now())
	if _, _, err := db.CreateAPIKey(ctx, modeltest.Staff, acme.ID, "crm"); err != nil {
		t.Fatal(err)
	}
	if err := db.CancelCustomer(ctx, modeltest.Staff, acme.ID); err != nil {
		t.Fatal(err)
	}
	execSQL(t, db, "UPDATE customers SET cancelled_at = ? WHERE id = ?", time.Now().AddDate(0, 0, -31), acme.ID)

	if _, err := db.SweepRetention(ctx, modeltest.Staff, "instance-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := customerStatus(t, db, acme.ID); got != customers.CustomerClosed {
		t.Errorf("status %s, want closed", got)
	}
	left := []struct {
		what string
		sql  string
		args []any
		want int64
	}{
		{"acme's contacts (the held one)", "SELECT COUNT(*) FROM contacts WHERE customer_id = ?", []any{acme.ID}, 1},
		{"the held contact", "SELECT COUNT(*) FROM contacts WHERE id = ?", []any{held.ID}, 1},
		{"acme's identifiers (the held one's)", "SELECT COUNT(*) FROM contact_identifiers WHERE customer_id = ?", []any{acme.ID}, 1},
		{"acme's consent events", "SELECT COUNT(*) FROM consent_events WHERE customer_id = ?", []any{acme.ID}, 0},
		{"acme's communication records (the held one's)", "SELECT COUNT(*) FROM communications WHERE customer_id = ?", []any{acme.ID}, 1},
		{"opt-outs kept as hashes", "SELECT COUNT(*) FROM closed_suppressions WHERE customer_id = ?", []any{acme.ID}, 1},
		{"acme's users with an email", "SELECT COUNT(*) FROM users WHERE customer_id = ? AND email NOT LIKE 'closed-%'", []any{acme.ID}, 0},
		{"acme's role assignments", "SELECT COUNT(*) FROM role_assignments WHERE domain = ?", []any{acme.ID}, 0},
		{"acme's live keys", "SELECT COUNT(*) FROM api_keys WHERE customer_id = ? AND revoked_at IS NULL", []any{acme.ID}, 0},
		{"beta's contact", "SELECT COUNT(*) FROM contacts WHERE id = ?", []any{other.ID}, 1},
		{"the plain contact", "SELECT COUNT(*) FROM contacts WHERE id = ?", []any{plain.ID}, 0},
	}
	for _, l := range left {
		if got := countSQL(t, db, l.sql, l.args...); got != l.want {
			t.Errorf("%s: %d, want %d", l.what, got, l.want)
		}
	}
	for _, tc := range []struct {
		id   string
		want bool
	}{{"+14155550101", true}, {"(415) 555-0102", false}} {
		if got, err := db.IsClosedSuppressed(ctx, acme.ID, tc.id, "US"); err != nil || got != tc.want {
			t.Errorf("%s opted out at the closed customer: %v %v, want %v", tc.id, got, err, tc.want)
		}
	}
	subjects := mailTo(t, db, "admin@acme.test")
	if len(subjects) != 2 || subjects[1] != "Your Sendara account's data was deleted" {
		t.Errorf("mails to the admin: %q", subjects)
	}
	e := auditEvents(t, db, "customer.close")
	if len(e) != 1 || !strings.Contains(e[0].Details, `"kept_under_legal_hold":1`) || !strings.Contains(e[0].Details, `"opt_outs_kept_as_hashes":1`) {
		t.Errorf("closure audit: %+v", e)
	}
	if err := db.ReactivateCustomer(ctx, modeltest.Staff, acme.ID); err == nil {
		t.Error("a closed customer was reactivated")
	}
	if rep, err := db.VerifyAudit(ctx); err != nil || !rep.Intact() {
		t.Errorf("audit chain: %+v %v", rep, err)
	}
}
