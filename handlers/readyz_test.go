package handlers_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/sendara/console/handlers"
	"github.com/sendara/console/models"
	store "github.com/sendara/console/models/store"
)

// pastTheCache waits until /readyz's cached verdict has expired.
func pastTheCache() { time.Sleep(1100 * time.Millisecond) }

// failWrites makes every write of the settings table fail, as a full disk
// makes every write fail while reads still answer.
func failWrites(t *testing.T, db *models.DB) {
	t.Helper()
	stmts := []string{
		`CREATE TRIGGER disk_full_insert BEFORE INSERT ON settings BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`,
		`CREATE TRIGGER disk_full_update BEFORE UPDATE ON settings BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`,
	}
	if db.Dialect == store.Postgres {
		stmts = []string{
			`CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$`,
			`CREATE TRIGGER disk_full BEFORE INSERT OR UPDATE ON settings FOR EACH ROW EXECUTE FUNCTION disk_full()`,
		}
	}
	for _, s := range stmts {
		if err := db.Gorm.Exec(s).Error; err != nil {
			t.Fatal(err)
		}
	}
}

// holdWriteLock keeps a write transaction open until the returned
// function is called: on SQLite it holds the one connection, on PostgreSQL
// an exclusive lock on table (reads go on, writes wait).
func holdWriteLock(t *testing.T, db *models.DB, table string) func() {
	t.Helper()
	tx := db.Gorm.Begin()
	if tx.Error != nil {
		t.Fatal(tx.Error)
	}
	lock := `UPDATE settings SET value = value WHERE key = 'server_secret'`
	if db.Dialect == store.Postgres {
		lock = `LOCK TABLE ` + table + ` IN EXCLUSIVE MODE`
	}
	if err := tx.Exec(lock).Error; err != nil {
		t.Fatal(err)
	}
	return func() { tx.Rollback() }
}

func TestReadyzIsUnavailableWhileWritesFailThoughReadsAnswer(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := app.client()
	if p := c.get("/readyz"); p.Status != http.StatusOK {
		t.Fatalf("GET /readyz with a healthy database: status %d, want 200", p.Status)
	}
	failWrites(t, app.db)
	if err := app.db.Ping(context.Background()); err != nil {
		t.Fatalf("the database should still answer: %v", err)
	}
	pastTheCache()
	if p := c.get("/readyz"); p.Status != http.StatusServiceUnavailable {
		t.Errorf("GET /readyz while every write fails: status %d, want 503", p.Status)
	}
	if p := c.get("/healthz"); p.Status != http.StatusOK {
		t.Errorf("GET /healthz (no database touch): status %d, want 200", p.Status)
	}
}

func TestReadyzStaysReadyWhileTheDatabaseIsBusyAfterARecentWrite(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := app.client()
	if p := c.get("/readyz"); p.Status != http.StatusOK {
		t.Fatalf("GET /readyz with a healthy database: status %d, want 200", p.Status)
	}
	release := holdWriteLock(t, app.db, "settings")
	defer release()
	pastTheCache()
	if p := c.get("/readyz"); p.Status != http.StatusOK {
		t.Errorf("GET /readyz while a writer holds the lock, a write having succeeded just before: status %d, want 200", p.Status)
	}
}

func TestReadyzIsUnavailableWhenNoWriteHasEverSucceeded(t *testing.T) {
	t.Parallel()
	stalled := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	app := newTestAppWith(t, handlersConfigWithProbe(stalled))
	if p := app.client().get("/readyz"); p.Status != http.StatusServiceUnavailable {
		t.Errorf("GET /readyz when the probe's write never completes: status %d, want 503", p.Status)
	}
}

func TestReadyzProbesOnceForABurstOfChecks(t *testing.T) {
	t.Parallel()
	calls := 0
	app := newTestAppWith(t, handlersConfigWithProbe(func(context.Context) error { calls++; return nil }))
	c := app.client()
	for range 20 {
		if p := c.get("/readyz"); p.Status != http.StatusOK {
			t.Fatalf("GET /readyz: status %d, want 200", p.Status)
		}
	}
	if calls >= 20 {
		t.Errorf("20 checks in a row made %d probe writes, want them answered from the cached verdict", calls)
	}
}

func handlersConfigWithProbe(probe func(context.Context) error) handlers.Config {
	return handlers.Config{ReadinessProbe: probe}
}
