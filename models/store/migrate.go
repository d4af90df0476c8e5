package store

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
)

//go:embed migrations
var migrations embed.FS

// SchemaFingerprint is a hash of every embedded migration file: it changes
// whenever the schema does (test templates are named by it).
func SchemaFingerprint() string {
	h := sha256.New()
	_ = fs.WalkDir(migrations, "migrations", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := migrations.ReadFile(path)
		h.Write([]byte(path))
		h.Write(b)
		return err
	})
	return hex.EncodeToString(h.Sum(nil))
}

// Migrator applies the embedded, versioned migrations of the database's
// dialect. Versions are recorded in goose_db_version; files are never edited
// once released, only appended.
type Migrator struct {
	provider *goose.Provider
	latest   int64
}

// NewMigrator prepares the migrations for db's dialect.
func NewMigrator(db *DB) (*Migrator, error) {
	sub, err := fs.Sub(migrations, "migrations/"+string(db.Dialect))
	if err != nil {
		return nil, fmt.Errorf("load %s migrations: %w", db.Dialect, err)
	}
	dialect := goose.DialectPostgres
	if db.Dialect == SQLite {
		dialect = goose.DialectSQLite3
	}
	p, err := goose.NewProvider(dialect, db.SQL(), sub)
	if err != nil {
		return nil, fmt.Errorf("load %s migrations: %w", db.Dialect, err)
	}
	m := &Migrator{provider: p}
	for _, s := range p.ListSources() {
		m.latest = max(m.latest, s.Version)
	}
	return m, nil
}

// Latest is the newest schema version this binary knows.
func (m *Migrator) Latest() int64 { return m.latest }

// Current is the schema version recorded in the database (0 when empty).
func (m *Migrator) Current(ctx context.Context) (int64, error) {
	v, err := m.provider.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// ErrSchemaTooNew means the database was migrated by a newer console; this
// binary must not run against a schema it does not understand.
type ErrSchemaTooNew struct{ Database, Known int64 }

func (e ErrSchemaTooNew) Error() string {
	return fmt.Sprintf("database schema is version %d but this console knows only up to %d: run a newer console", e.Database, e.Known)
}

// Up applies every pending migration, each in its own transaction, and
// logs each one. It refuses to touch a schema newer than it knows.
func (m *Migrator) Up(ctx context.Context, log *slog.Logger) error {
	cur, err := m.Current(ctx)
	if err != nil {
		return err
	}
	if cur > m.latest {
		return ErrSchemaTooNew{Database: cur, Known: m.latest}
	}
	results, err := m.provider.Up(ctx)
	for _, r := range results {
		log.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	if err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	return nil
}
