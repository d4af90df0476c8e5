// Package modeltest gives tests a fresh, migrated database: a SQLite file
// by default, or a throw-away PostgreSQL database when CONSOLE_TEST_DB holds
// a postgres:// URL, so one suite runs on both.
package modeltest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/sendara/console/models"
)

// Open returns a fresh, migrated database that is removed when t ends.
func Open(t testing.TB) *models.DB {
	t.Helper()
	db := OpenEmpty(t)
	if err := models.Migrate(context.Background(), db, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatalf("migrate test database: %v", err)
	}
	return db
}

// OpenEmpty returns a fresh database with no schema.
func OpenEmpty(t testing.TB) *models.DB {
	t.Helper()
	dsn := DSN(t)
	db, err := models.Open(dsn)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// DSN creates an empty database and returns its DSN; it is dropped when t
// ends.
func DSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv("CONSOLE_TEST_DB")
	if models.DialectOf(base) != models.Postgres {
		return filepath.Join(t.TempDir(), "test.db")
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("CONSOLE_TEST_DB is set but PostgreSQL does not answer: %v", err)
	}
	defer admin.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "console_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("CONSOLE_TEST_DB is not a URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// Staff is a system actor for setting up fixtures.
var Staff = models.SystemActor("test")
