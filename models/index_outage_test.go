package models_test

import (
	"context"
	"errors"
	"testing"

	consent "github.com/sendara/console/models/consent"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// TestChecksAnswerFromMemoryWhileTheDatabaseIsUnreachable: with the
// database's connection pool closed, a loaded index still answers checks
// (an opt-out, a stranger, a batch) and authenticates a key it holds, even
// once a replay has failed; past StaleLimit after its last good replay it
// answers ErrSuppressionsUnavailable instead of a guess.
func TestChecksAnswerFromMemoryWhileTheDatabaseIsUnreachable(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	ctx := context.Background()
	acme := newCustomer(t, db, "acme")
	if _, err := db.RecordConsent(ctx, modeltest.Staff, acme.ID, consent.ConsentInput{To: "+14155550301", Kind: consent.OptOut}, "US"); err != nil {
		t.Fatal(err)
	}
	_, secret, err := db.CreateAPIKey(ctx, modeltest.Staff, acme.ID, "pipeline")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AuthenticateKey(ctx, secret); err != nil { // the index now holds the key
		t.Fatal(err)
	}
	pool, err := db.Gorm.DB()
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.ReplaySuppressionIndex(ctx); err == nil {
		t.Fatal("a replay succeeded with the pool closed")
	}
	check := func(to string) (consent.Suppression, error) {
		return db.CheckSuppression(ctx, acme.ID, store.Identifier{Kind: store.KindPhone, Value: to}, "")
	}
	if s, err := check("+14155550301"); err != nil || !s.Suppressed || s.Reason != consent.ReasonOptOut {
		t.Errorf("opted-out person with the database down: %+v, %v; want suppressed", s, err)
	}
	if s, err := check("+14155550302"); err != nil || s.Suppressed || s.OptedIn {
		t.Errorf("a stranger with the database down: %+v, %v; want no record", s, err)
	}
	batch, err := db.CheckSuppressions(ctx, acme.ID, []store.Identifier{{Kind: store.KindPhone, Value: "+14155550302"},
		{Kind: store.KindPhone, Value: "+14155550301"}}, "")
	if err != nil || len(batch) != 2 || batch[0].Suppressed || !batch[1].Suppressed {
		t.Errorf("batch with the database down: %+v, %v", batch, err)
	}
	if k, err := db.AuthenticateKey(ctx, secret); err != nil || k.CustomerID == nil || *k.CustomerID != acme.ID {
		t.Errorf("the key with the database down: %+v, %v", k, err)
	}
	// Past the limit: no answer rather than a stale one.
	db.AgeSuppressionIndex(consent.StaleLimit + 1)
	if _, err := check("+14155550301"); !errors.Is(err, consent.ErrSuppressionsUnavailable) {
		t.Errorf("check past StaleLimit: %v, want ErrSuppressionsUnavailable", err)
	}
	if _, err := db.CheckSuppressions(ctx, acme.ID, []store.Identifier{{Kind: store.KindPhone, Value: "+14155550301"}}, ""); !errors.Is(err, consent.ErrSuppressionsUnavailable) {
		t.Errorf("batch past StaleLimit: %v, want ErrSuppressionsUnavailable", err)
	}
	if _, err := db.AuthenticateKey(ctx, secret); !errors.Is(err, consent.ErrSuppressionsUnavailable) {
		t.Errorf("key past StaleLimit: %v, want ErrSuppressionsUnavailable", err)
	}
}
