package handlers_test

import (
	"errors"
	"slices"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"
)

// committedFailReadsAfterCommit makes every read outside a transaction
// fail from the moment a row is written to one of tables (default
// consent_events): a handler that reads again after its transaction
// committed then fails, one that answers from what the transaction wrote
// does not.
func committedFailReadsAfterCommit(t *testing.T, app *testApp, tables ...string) *atomic.Bool {
	t.Helper()
	var armed atomic.Bool
	injected := errors.New("injected: the database is gone after the commit")
	if err := app.db.Gorm.Callback().Create().After("gorm:create").Register("test:arm_after_consent_event", func(g *gorm.DB) {
		if g.Statement.Table == "consent_events" || slices.Contains(tables, g.Statement.Table) {
			armed.Store(true)
		}
	}); err != nil {
		t.Fatal(err)
	}
	fail := func(g *gorm.DB) {
		if _, inTx := g.Statement.ConnPool.(gorm.TxCommitter); armed.Load() && !inTx {
			_ = g.AddError(injected)
		}
	}
	for _, err := range []error{
		app.db.Gorm.Callback().Query().Before("gorm:query").Register("test:fail_reads_after_commit", fail),
		app.db.Gorm.Callback().Raw().Before("gorm:raw").Register("test:fail_raw_after_commit", fail),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return &armed
}

// TestAnAcknowledgedOptOutIsAnsweredFromWhatWasCommitted: with every read
// after the commit failing, POST /api/v1/opt-outs and /opt-ins still
// answer 2xx with what they stored (DESIGN §4: what was acknowledged is
// answered from what was committed).
func TestAnAcknowledgedOptOutIsAnsweredFromWhatWasCommitted(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	api := app.apiKey(t, app.customer("acme"))
	armed := committedFailReadsAfterCommit(t, app)
	a := api.post("/api/v1/opt-outs", map[string]any{"to": "+14155550123", "source": "api"})
	if !armed.Load() {
		t.Fatal("the opt-out wrote no consent event")
	}
	if a.Status != 201 || a.Body["recorded"] != true || a.Body["suppressed"] != true {
		t.Fatalf("opt-out with reads after the commit failing: %d %s, want 201 recorded and suppressed", a.Status, a.Raw)
	}
	armed.Store(false)
	a = api.post("/api/v1/opt-ins", map[string]any{"to": "+14155550124", "evidence": "web form 7", "source": "api"})
	if a.Status != 201 || a.Body["suppressed"] != false {
		t.Fatalf("opt-in with reads after the commit failing: %d %s, want 201 and not suppressed", a.Status, a.Raw)
	}
	armed.Store(false)
	if !api.suppressed("+14155550123") {
		t.Error("the acknowledged opt-out is not in the check")
	}
}

// TestACreatedContactIsAnsweredFromWhatWasCommitted: POST /api/v1/contacts
// answers 201 with the new contact and its consent state while every read
// after the commit fails.
func TestACreatedContactIsAnsweredFromWhatWasCommitted(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	api := app.apiKey(t, app.customer("acme"))
	armed := committedFailReadsAfterCommit(t, app, "contacts")
	a := api.post("/api/v1/contacts", map[string]any{"identifiers": []string{"+14155550130"}, "name": "Ann"})
	if !armed.Load() {
		t.Fatal("no contact was written")
	}
	consent, _ := a.Body["consent"].(map[string]any)
	if a.Status != 201 || a.Body["suppressed"] != false || len(consent) != 2 {
		t.Fatalf("create contact with reads after the commit failing: %d %s", a.Status, a.Raw)
	}
}

// TestChecksStillAnswerWhileTheDatabaseIsUnreachable: with the database's
// connection pool closed, the suppression checks (single and batch) still
// answer 200 from the in-memory index, key authentication included.
func TestChecksStillAnswerWhileTheDatabaseIsUnreachable(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	api := app.apiKey(t, app.customer("acme"))
	if a := api.post("/api/v1/opt-outs", map[string]any{"to": "+14155550123"}); a.Status != 201 {
		t.Fatalf("opt-out: %d %s", a.Status, a.Raw)
	}
	if !api.suppressed("+14155550123") { // also puts the key in the index
		t.Fatal("not suppressed before the outage")
	}
	pool, err := app.db.Gorm.DB()
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.Close(); err != nil {
		t.Fatal(err)
	}
	if a := api.post("/api/v1/opt-outs", map[string]any{"to": "+14155550199"}); a.Status < 500 {
		t.Fatalf("a write with the database closed answered %d: the pool is not closed", a.Status)
	}
	for range 3 { // the index's replays fail meanwhile; the answers must not
		if a := api.get(check("+14155550123")); a.Status != 200 || a.Body["suppressed"] != true {
			t.Fatalf("check during the outage: %d %s", a.Status, a.Raw)
		}
		if a := api.get(check("+14155550124")); a.Status != 200 || a.Body["suppressed"] != false || a.Body["consent"] != "none" {
			t.Fatalf("check of a stranger during the outage: %d %s", a.Status, a.Raw)
		}
		a := api.post("/api/v1/suppressions/check", map[string]any{"to": []string{"+14155550123", "+14155550124"}})
		results, _ := a.Body["results"].([]any)
		if a.Status != 200 || len(results) != 2 || results[0].(map[string]any)["suppressed"] != true {
			t.Fatalf("batch check during the outage: %d %s", a.Status, a.Raw)
		}
	}
}
