package models_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/sendara/console/models"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// appliedLog records the migrations Up reports applying.
type appliedLog struct {
	mu       sync.Mutex
	versions []int64
}

func (l *appliedLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *appliedLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *appliedLog) WithGroup(string) slog.Handler            { return l }
func (l *appliedLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "migration applied" {
		return nil
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "version" {
			l.mu.Lock()
			l.versions = append(l.versions, a.Value.Int64())
			l.mu.Unlock()
		}
		return true
	})
	return nil
}

func (l *appliedLog) applied() []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]int64(nil), l.versions...)
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newMigrator(t *testing.T, db *models.DB) *store.Migrator {
	t.Helper()
	m, err := store.NewMigrator(db.DB)
	if err != nil {
		t.Fatalf("NewMigrator: %v", err)
	}
	return m
}

func TestMigrationsReplayFromAnEmptyDatabaseToTheLatestVersion(t *testing.T) {
	t.Parallel()
	db := modeltest.OpenEmpty(t)
	m := newMigrator(t, db)
	if m.Latest() < 1 {
		t.Fatalf("Latest() = %d, want at least one embedded migration", m.Latest())
	}
	if cur, err := m.Current(t.Context()); err != nil || cur != 0 {
		t.Fatalf("Current() on an empty database = %d, %v; want 0, nil", cur, err)
	}

	log := &appliedLog{}
	if err := m.Up(t.Context(), slog.New(log)); err != nil {
		t.Fatalf("Up: %v", err)
	}

	cur, err := m.Current(t.Context())
	if err != nil {
		t.Fatalf("Current: %v", err)
	}
	if cur != m.Latest() {
		t.Errorf("Current() after Up = %d, want Latest() = %d", cur, m.Latest())
	}
	applied := log.applied()
	if len(applied) == 0 || applied[len(applied)-1] != m.Latest() {
		t.Errorf("Up logged applied versions %v, want them to end at %d", applied, m.Latest())
	}
	// The replayed schema is usable: the audit chain starts empty and intact.
	rep, err := db.VerifyAudit(t.Context())
	if err != nil {
		t.Fatalf("VerifyAudit on the fresh schema: %v", err)
	}
	if !rep.Intact() || rep.Entries != 0 {
		t.Errorf("VerifyAudit on the fresh schema = %+v, want intact with 0 entries", rep)
	}
}

func TestRunningMigrationsTwiceAppliesNothingTheSecondTime(t *testing.T) {
	t.Parallel()
	db := modeltest.OpenEmpty(t)
	m := newMigrator(t, db)
	if err := m.Up(t.Context(), discardLog()); err != nil {
		t.Fatalf("first Up: %v", err)
	}

	log := &appliedLog{}
	if err := m.Up(t.Context(), slog.New(log)); err != nil {
		t.Fatalf("second Up: %v", err)
	}

	if applied := log.applied(); len(applied) != 0 {
		t.Errorf("second Up applied versions %v, want none", applied)
	}
	if cur, err := m.Current(t.Context()); err != nil || cur != m.Latest() {
		t.Errorf("Current() after the second Up = %d, %v; want %d, nil", cur, err, m.Latest())
	}
}

func TestMigrateRefusesADatabaseMigratedByANewerConsole(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	m := newMigrator(t, db)
	// goose_db_version has (id, version_id, is_applied, tstamp) on both
	// dialects; id and tstamp have defaults.
	if err := db.Gorm.Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)", m.Latest()+1, true).Error; err != nil {
		t.Fatalf("record a newer schema version: %v", err)
	}

	err := m.Up(t.Context(), discardLog())

	var tooNew store.ErrSchemaTooNew
	if !errors.As(err, &tooNew) {
		t.Fatalf("Up on a newer schema = %v, want models.ErrSchemaTooNew", err)
	}
	if tooNew.Database != m.Latest()+1 || tooNew.Known != m.Latest() {
		t.Errorf("ErrSchemaTooNew = %+v, want Database %d and Known %d", tooNew, m.Latest()+1, m.Latest())
	}
}

func TestMigrateHelperAlsoRefusesANewerSchema(t *testing.T) {
	t.Parallel()
	db := modeltest.Open(t)
	m := newMigrator(t, db)
	if err := db.Gorm.Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)", m.Latest()+5, true).Error; err != nil {
		t.Fatalf("record a newer schema version: %v", err)
	}

	err := models.Migrate(t.Context(), db, discardLog())

	var tooNew store.ErrSchemaTooNew
	if !errors.As(err, &tooNew) || tooNew.Database != m.Latest()+5 {
		t.Errorf("Migrate on a newer schema = %v, want ErrSchemaTooNew for version %d", err, m.Latest()+5)
	}
}
