package models_test

import (
	imports "github.com/sendara/console/models/imports"

	accounts "github.com/sendara/console/models/accounts"

	calendar "github.com/sendara/console/models/calendar"

	consent "github.com/sendara/console/models/consent"

	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sendara/console/models"
	customers "github.com/sendara/console/models/customers"
	"github.com/sendara/console/models/modeltest"

	store "github.com/sendara/console/models/store"
)

// sameAnswers checks that the in-memory index answers every identifier on
// every channel exactly as the database does.
func sameAnswers(t *testing.T, db *models.DB, step string, customers []*customers.Customer, values []string) {
	t.Helper()
	ctx := context.Background()
	for _, c := range customers {
		for _, v := range values {
			id, err := store.NormalizeIdentifier("to", v, "US")
			if err != nil {
				t.Fatal(err)
			}
			for _, ch := range []string{"", consent.ChannelAll, consent.ChannelIMessage, consent.ChannelFaceTime} {
				got, err := db.CheckSuppression(ctx, c.ID, id, ch)
				if err != nil {
					t.Fatal(err)
				}
				want, err := db.CheckSuppressionInDB(ctx, c.ID, id, ch)
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(answer(got)) != fmt.Sprint(answer(want)) {
					t.Errorf("%s: %s %s on %q: index %v, database %v", step, c.Slug, v, ch, answer(got), answer(want))
				}
			}
			batch, err := db.CheckSuppressions(ctx, c.ID, []store.Identifier{id, id}, "")
			if err != nil {
				t.Fatal(err)
			}
			single, _ := db.CheckSuppressionInDB(ctx, c.ID, id, "")
			if fmt.Sprint(answer(batch[1])) != fmt.Sprint(answer(single)) {
				t.Errorf("%s: batch check of %s: %v, database %v", step, v, answer(batch[1]), answer(single))
			}
		}
	}
}

func answer(s consent.Suppression) string {
	since := "-"
	if s.Since != nil {
		since = s.Since.Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("%s suppressed=%v reason=%q since=%s opted_in=%v", s.To, s.Suppressed, s.Reason, since, s.OptedIn)
}

// TestSuppressionIndexAgreesWithTheDatabase walks through every kind of
// change that moves a suppression answer and compares the index with the
// database after each.
func TestSuppressionIndexAgreesWithTheDatabase(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme, other := mustCustomer(t, db, "acme"), mustCustomer(t, db, "other")
	tenants := []*customers.Customer{acme, other}
	values := []string{"+14155550101", "+14155550102", "+14155550103", "+14155550104", "+14155550105",
		"+14155550106", "ann@example.com", janePhone, janeEmail, "+14155550199"}
	mk := func(c *customers.Customer, ids ...string) *consent.Contact {
		t.Helper()
		contact, err := db.CreateContact(ctx, modeltest.Staff, c.ID, consent.ContactInput{Identifiers: ids}, "US")
		if err != nil {
			t.Fatal(err)
		}
		return contact
	}
	record := func(c *customers.Customer, in consent.ConsentInput) {
		t.Helper()
		if _, err := db.RecordConsent(ctx, modeltest.Staff, c.ID, in, "US"); err != nil {
			t.Fatal(err)
		}
	}
	base := time.Now().Add(-72 * time.Hour).UTC()
	ann := mk(acme, "+14155550101", "ann@example.com")
	mk(acme, "+14155550102")
	mk(acme, "+14155550103")
	mk(other, "+14155550102")
	sameAnswers(t, db, "contacts created", tenants, values)

	record(acme, consent.ConsentInput{To: "+14155550101", Kind: consent.OptOut, OccurredAt: base})
	record(acme, consent.ConsentInput{To: "+14155550102", Kind: consent.OptOut, Channel: consent.ChannelIMessage, Reason: consent.ReasonRestriction, OccurredAt: base.Add(time.Hour)})
	record(acme, consent.ConsentInput{To: "+14155550102", Kind: consent.OptOut, Channel: consent.ChannelFaceTime, Reason: consent.ReasonObjection, OccurredAt: base})
	record(acme, consent.ConsentInput{To: "+14155550104", Kind: consent.OptOut, OccurredAt: base}) // unknown: a contact is created
	sameAnswers(t, db, "opt-outs", tenants, values)

	record(acme, consent.ConsentInput{To: "+14155550103", Kind: consent.OptIn, Evidence: "signed form", OccurredAt: base.Add(2 * time.Hour)})
	record(acme, consent.ConsentInput{To: "+14155550103", Kind: consent.OptOut, OccurredAt: base.Add(time.Hour)}) // older than the opt-in
	record(acme, consent.ConsentInput{To: "+14155550104", Kind: consent.OptIn, Channel: consent.ChannelFaceTime, Evidence: "call recording", OccurredAt: base.Add(time.Hour)})
	sameAnswers(t, db, "opt-ins", tenants, values)

	// The person's suppression follows identifiers added to and taken off
	// the contact.
	if _, err := db.UpdateContact(ctx, modeltest.Staff, ann.ID, consent.ContactInput{Identifiers: []string{"ann@example.com", "+14155550105"}}, "US"); err != nil {
		t.Fatal(err)
	}
	sameAnswers(t, db, "identifiers edited", tenants, values)
	opted, err := db.ContactsByIdentifier(ctx, modeltest.Staff, acme.ID, "+14155550103", "US")
	if err != nil || len(opted) != 1 {
		t.Fatalf("find the opted-in contact: %v %v", opted, err)
	}
	if _, err := db.UpdateContact(ctx, modeltest.Staff, opted[0].ID, consent.ContactInput{Identifiers: []string{"+14155550103", "+14155550199"}}, "US"); err != nil {
		t.Fatal(err)
	}
	sameAnswers(t, db, "an identifier added to an opted-in person", tenants, values)

	res := struct{ imports.BulkResult }{}
	err = db.Tx(ctx, modeltest.Staff, func(tx *store.Tx) error {
		var err error
		res.BulkResult, err = imports.BulkOptOuts(tx, acme.ID, "csv_import", []imports.BulkOptOut{
			{Identifier: store.Identifier{Kind: store.KindPhone, Value: "+14155550106"}, Channel: consent.ChannelAll, OccurredAt: base, IdempotencyKey: "row-1"},
			{Identifier: store.Identifier{Kind: store.KindPhone, Value: "+14155550103"}, Channel: consent.ChannelAll, OccurredAt: base.Add(3 * time.Hour), IdempotencyKey: "row-2"},
		})
		return err
	})
	if err != nil || res.Applied != 2 {
		t.Fatalf("bulk opt-outs: %+v %v", res, err)
	}
	sameAnswers(t, db, "bulk opt-outs", tenants, values)

	// An erased person is suppressed for erasure; the index defers to the
	// database for identifiers on the erased list.
	subject(t, db, acme)
	sameAnswers(t, db, "subject created", tenants, values)
	r := instructed(t, db, calendar.TypeErasure, []string{janePhone})
	if _, err := db.EraseSubject(ctx, modeltest.Staff, r.ID); err != nil {
		t.Fatal(err)
	}
	sameAnswers(t, db, "erased", tenants, values)
	if db.IndexAnswers(acme.ID, janePhone, "") {
		t.Error("the index answered for an erased identifier itself")
	}
	if !db.IndexAnswers(acme.ID, "+14155550101", "") || !db.IndexAnswers(other.ID, janePhone, "") {
		t.Error("the index deferred for identifiers it can answer")
	}
	mk(acme, janePhone) // the CRM syncs the person back in
	sameAnswers(t, db, "erased person re-created", tenants, values)
}

// waitUntil polls cond for up to ten seconds: other processes' writes reach
// the index by notification or by its poll, not synchronously.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("%s: not within 10 s", what)
}

// TestSuppressionIndexFollowsOtherProcesses writes through a second handle
// on the same database, as a CLI import or another instance would, and
// through raw SQL: the first handle's index follows.
func TestSuppressionIndexFollowsOtherProcesses(t *testing.T) {
	t.Parallel()
	indexed, other := modeltest.OpenTwice(t)
	ctx := context.Background()
	acme := mustCustomer(t, other, "acme")
	phone := store.Identifier{Kind: store.KindPhone, Value: "+14155550101"}
	suppressed := func() bool {
		s, err := indexed.CheckSuppression(ctx, acme.ID, phone, "")
		if err != nil {
			t.Fatal(err)
		}
		return s.Suppressed
	}
	if suppressed() {
		t.Fatal("suppressed before any opt-out")
	}
	if _, err := other.RecordConsent(ctx, modeltest.Staff, acme.ID, consent.ConsentInput{To: phone.Value, Kind: consent.OptOut}, "US"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "an opt-out by another process", suppressed)

	// An opt-in of a person the index has never seen shows too.
	newcomer := store.Identifier{Kind: store.KindPhone, Value: "+14155550177"}
	if _, err := other.RecordConsent(ctx, modeltest.Staff, acme.ID, consent.ConsentInput{To: newcomer.Value, Kind: consent.OptIn, Evidence: "web form"}, "US"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "an opt-in by another process", func() bool {
		s, err := indexed.CheckSuppression(ctx, acme.ID, newcomer, "")
		if err != nil {
			t.Fatal(err)
		}
		return s.OptedIn
	})

	// A change no model method made (a DBA's fix, a restore) still shows.
	if err := other.Gorm.Exec("UPDATE consent_states SET suppressed = ? WHERE customer_id = ?", false, acme.ID).Error; err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "a raw SQL update", func() bool { return !suppressed() })

	// A key revoked elsewhere stops working here.
	key, secret, err := other.CreateAPIKey(ctx, modeltest.Staff, acme.ID, "crm")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := indexed.AuthenticateKey(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if _, err := indexed.AuthenticateKey(ctx, secret); err != nil { // now from the cache
		t.Fatal(err)
	}
	if err := other.RevokeAPIKey(ctx, modeltest.Staff, key.ID); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "a key revoked by another process", func() bool {
		_, err := indexed.AuthenticateKey(ctx, secret)
		return err == accounts.ErrBadKey
	})

	// So does every key of a customer cancelled elsewhere.
	_, live, err := other.CreateAPIKey(ctx, modeltest.Staff, acme.ID, "zapier")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := indexed.AuthenticateKey(ctx, live); err != nil {
		t.Fatal(err)
	}
	if err := other.CancelCustomer(ctx, modeltest.Staff, acme.ID); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "a key of a customer cancelled by another process", func() bool {
		_, err := indexed.AuthenticateKey(ctx, live)
		return err == accounts.ErrBadKey
	})
}

// TestSuppressionChangeLogIsSwept keeps the change log to its retention.
func TestSuppressionChangeLogIsSwept(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	if _, err := db.RecordConsent(ctx, modeltest.Staff, acme.ID, consent.ConsentInput{To: "+14155550101", Kind: consent.OptOut}, "US"); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Hour).UTC()
	stamp := any(old)
	if db.Dialect == store.SQLite {
		stamp = old.Format("2006-01-02 15:04:05.000")
	}
	if err := db.Gorm.Exec("INSERT INTO suppression_changes (kind, changed_at) VALUES ('keys', ?)", stamp).Error; err != nil {
		t.Fatal(err)
	}
	count := func() (n int64) {
		if err := db.Gorm.Table("suppression_changes").Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	if err := db.SweepSuppressionChanges(ctx); err != nil {
		t.Fatal(err)
	}
	if after := count(); after != before-1 || after == 0 {
		t.Errorf("sweep left %d of %d rows; want all but the two-hour-old one", after, before)
	}
}

// TestSuppressionIndexWaitsForSlowTransactions commits two transactions
// out of the order in which they took change-log ids (possible only on
// PostgreSQL, where writers do not queue): the index must not skip the
// one that committed last with the lower id.
func TestSuppressionIndexWaitsForSlowTransactions(t *testing.T) {
	t.Parallel()
	if store.DialectOf(os.Getenv("CONSOLE_TEST_DB")) != store.Postgres {
		t.Skip("SQLite commits writers one at a time, in id order")
	}
	indexed, other := modeltest.OpenTwice(t)
	ctx := context.Background()
	acme := mustCustomer(t, other, "acme")
	slow, fast := "+14155550101", "+14155550102"
	commitSlow := slowOptOut(t, other, acme, slow)
	if _, err := other.RecordConsent(ctx, modeltest.Staff, acme.ID, consent.ConsentInput{To: fast, Kind: consent.OptOut}, "US"); err != nil {
		t.Fatal(err)
	}
	check := func(v string) bool {
		s, err := indexed.CheckSuppression(ctx, acme.ID, store.Identifier{Kind: store.KindPhone, Value: v}, "")
		if err != nil {
			t.Fatal(err)
		}
		return s.Suppressed
	}
	waitUntil(t, "the fast transaction", func() bool { return check(fast) })
	commitSlow()
	waitUntil(t, "the slow transaction, committed after a later id", func() bool { return check(slow) })
}

// TestSuppressionIndexLoadedDuringASlowTransaction loads an index while a
// transaction that took a lower change id than a committed one is still
// running: the loaded state lacks it, and the index must still pick it up.
func TestSuppressionIndexLoadedDuringASlowTransaction(t *testing.T) {
	t.Parallel()
	if store.DialectOf(os.Getenv("CONSOLE_TEST_DB")) != store.Postgres {
		t.Skip("SQLite commits writers one at a time, in id order")
	}
	indexed, other := modeltest.OpenTwice(t)
	ctx := context.Background()
	acme := mustCustomer(t, other, "acme")
	slow, fast := "+14155550101", "+14155550102"
	commitSlow := slowOptOut(t, other, acme, slow)
	if _, err := other.RecordConsent(ctx, modeltest.Staff, acme.ID, consent.ConsentInput{To: fast, Kind: consent.OptOut}, "US"); err != nil {
		t.Fatal(err)
	}
	loadCtx, stop := context.WithCancel(ctx)
	defer stop()
	if _, err := indexed.LoadSuppressionIndex(loadCtx); err != nil { // a fresh index, loaded now
		t.Fatal(err)
	}
	check := func(v string) bool {
		s, err := indexed.CheckSuppression(ctx, acme.ID, store.Identifier{Kind: store.KindPhone, Value: v}, "")
		if err != nil {
			t.Fatal(err)
		}
		return s.Suppressed
	}
	if !check(fast) || check(slow) {
		t.Fatalf("loaded index: fast suppressed %v, slow suppressed %v", check(fast), check(slow))
	}
	commitSlow()
	waitUntil(t, "the transaction in flight while the index loaded", func() bool { return check(slow) })
}

// slowOptOut starts a transaction on db that records an opt-out of value
// (taking its change-log id now) and returns the function that commits it.
func slowOptOut(t *testing.T, db *models.DB, c *customers.Customer, value string) (commit func()) {
	t.Helper()
	started, release, done := make(chan struct{}), make(chan struct{}), make(chan error)
	go func() {
		done <- db.Tx(context.Background(), modeltest.Staff, func(tx *store.Tx) error {
			_, err := consent.RecordConsent(tx, c.ID, store.Identifier{Kind: store.KindPhone, Value: value}, consent.ConsentInput{Kind: consent.OptOut})
			close(started)
			<-release
			return err
		})
	}()
	<-started
	return func() {
		t.Helper()
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// TestFailedReplayIsRepeated makes the replay after an opt-out fail: checks
// fall back to the database meanwhile, and the change is not skipped once
// replays work again.
func TestFailedReplayIsRepeated(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := mustCustomer(t, db, "acme")
	phone := store.Identifier{Kind: store.KindPhone, Value: "+14155550101"}
	var failing atomic.Bool
	failing.Store(true)
	db.FailSuppressionReplays(failing.Load)
	if _, err := db.RecordConsent(ctx, modeltest.Staff, acme.ID, consent.ConsentInput{To: phone.Value, Kind: consent.OptOut}, "US"); err != nil {
		t.Fatal(err)
	}
	if db.IndexAnswers(acme.ID, phone.Value, "") {
		t.Fatal("the index answers after a failed replay")
	}
	if s, err := db.CheckSuppression(ctx, acme.ID, phone, ""); err != nil || !s.Suppressed {
		t.Fatalf("check during failed replays: %+v %v", s, err)
	}
	failing.Store(false)
	waitUntil(t, "the index answering again", func() bool { return db.IndexAnswers(acme.ID, phone.Value, "") })
	if s, err := db.CheckSuppression(ctx, acme.ID, phone, ""); err != nil || !s.Suppressed {
		t.Fatalf("the index skipped the change whose replay failed: %+v %v", s, err)
	}
}
