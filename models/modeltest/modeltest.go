// Package modeltest gives tests a fresh, migrated database: a SQLite file
// by default, or a throw-away PostgreSQL database when CONSOLE_TEST_DB holds
// a postgres:// URL, so one suite runs on both.
package modeltest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/sendara/console/models"
	store "github.com/sendara/console/models/store"
)

// Open returns a fresh, migrated database that is removed when t ends. On
// PostgreSQL it is a copy of a template database migrated once per schema
// version, which is several times faster than migrating each one.
//
// The suppression index runs as it does in the console, so every test of a
// suppression answer also tests the index; OpenWithoutIndex leaves it out.
func Open(t testing.TB, opts ...store.Option) *models.DB {
	t.Helper()
	db := OpenWithoutIndex(t, opts...)
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop) // runs before the database closes
	if err := db.StartSuppressionIndex(ctx, quiet); err != nil {
		t.Fatalf("suppression index: %v", err)
	}
	return db
}

// OpenTwice opens one fresh database through two handles, as two console
// processes would: the first with the suppression index, the second
// without (a CLI import, another instance's writes).
func OpenTwice(t testing.TB) (indexed, other *models.DB) {
	t.Helper()
	var dsn string
	if store.DialectOf(os.Getenv("CONSOLE_TEST_DB")) == store.Postgres {
		dsn = newDatabase(t, migratedTemplate(t))
	} else {
		dsn = DSN(t)
	}
	keys := Keyring(t)
	open := func() *models.DB {
		db, err := models.Open(dsn)
		if err != nil {
			t.Fatalf("open test database: %v", err)
		}
		db.UseKeyring(keys)
		t.Cleanup(func() { db.Close() })
		return db
	}
	other = open()
	if err := models.Migrate(context.Background(), other, quiet); err != nil {
		t.Fatalf("migrate test database: %v", err)
	}
	indexed = open()
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	if err := indexed.StartSuppressionIndex(ctx, quiet); err != nil {
		t.Fatalf("suppression index: %v", err)
	}
	return indexed, other
}

// OpenWithoutIndex is Open without the in-memory suppression index: checks
// read the database, as they do while the index loads. opts are Open's
// (the region, the business calendar).
func OpenWithoutIndex(t testing.TB, opts ...store.Option) *models.DB {
	t.Helper()
	if store.DialectOf(os.Getenv("CONSOLE_TEST_DB")) == store.Postgres {
		db, err := models.Open(newDatabase(t, migratedTemplate(t)), opts...)
		if err != nil {
			t.Fatalf("open test database: %v", err)
		}
		db.UseKeyring(Keyring(t))
		t.Cleanup(func() { db.Close() })
		return db
	}
	path := filepath.Join(t.TempDir(), "test.db")
	if err := copyFile(sqliteTemplate(t), path); err != nil {
		t.Fatalf("copy the migrated template: %v", err)
	}
	db, err := models.Open(path, opts...)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	db.UseKeyring(Keyring(t))
	t.Cleanup(func() { db.Close() })
	return db
}

var sqliteTmpl struct {
	once sync.Once
	path string
	err  error
}

// sqliteTemplate returns a SQLite file holding the current schema; each
// test copies it, which costs a file copy instead of every migration. Like
// PostgreSQL's template it is named by a hash of the migration files and
// shared by every test process (a run of ./... starts one per package):
// the first builds it under a temporary name and renames it when complete,
// so no process ever copies a half-migrated file, and a schema changed by a
// later build gets a file of its own.
func sqliteTemplate(t testing.TB) string {
	sqliteTmpl.once.Do(func() {
		path := filepath.Join(os.TempDir(), "console-sqlite-template-"+store.SchemaFingerprint()[:16]+".db")
		if _, err := os.Stat(path); err == nil {
			sqliteTmpl.path = path
			return
		}
		building := path + "." + randomHex(4) + ".building"
		db, err := models.Open(building)
		if err != nil {
			sqliteTmpl.err = err
			return
		}
		err = models.Migrate(context.Background(), db, quiet)
		// Closing checkpoints the write-ahead log into the file, so the
		// file alone holds the whole schema.
		if cerr := db.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			// Another process may have renamed its own copy first: the
			// rename replaces it with an equal file, atomically.
			err = os.Rename(building, path)
		}
		for _, suffix := range []string{"", "-wal", "-shm"} {
			_ = os.Remove(building + suffix)
		}
		sqliteTmpl.path, sqliteTmpl.err = path, err
	})
	if sqliteTmpl.err != nil {
		t.Fatalf("SQLite template database: %v", sqliteTmpl.err)
	}
	return sqliteTmpl.path
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// migratedTemplate returns the name of a database holding the current
// schema, named by a hash of the migration files so each schema version is
// built once. It is built under a temporary name and renamed when complete:
// a run killed half-way leaves no half-migrated template behind.
func migratedTemplate(t testing.TB) string {
	templateOnce.Do(func() {
		templateName, templateErr = buildTemplate()
	})
	if templateErr != nil {
		t.Fatalf("template database: %v", templateErr)
	}
	return templateName
}

func buildTemplate() (string, error) {
	ctx := context.Background()
	base := os.Getenv("CONSOLE_TEST_DB")
	name := "console_tmpl_" + store.SchemaFingerprint()[:16]
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", err
	}
	defer admin.Close(ctx)
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil || exists {
		return name, err
	}
	building := fmt.Sprintf("%s_b%s", name, randomHex(4))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		return "", err
	}
	db, err := models.Open(withPath(base, building))
	if err != nil {
		return "", err
	}
	err = models.Migrate(ctx, db, quiet)
	db.Close()
	if err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+name); err != nil {
		// Another test process finished the same template first.
		_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)")
	}
	return name, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func withPath(base, dbName string) string {
	u, _ := url.Parse(base)
	u.Path = "/" + dbName
	return u.String()
}

// OpenEmpty returns a fresh database with no schema.
func OpenEmpty(t testing.TB) *models.DB {
	t.Helper()
	dsn := DSN(t)
	db, err := models.Open(dsn)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	db.UseKeyring(Keyring(t))
	t.Cleanup(func() { db.Close() })
	return db
}

// Keyring is a fresh keyring for one test's databases, as the console
// loads from CONSOLE_SECRET_KEY.
func Keyring(t testing.TB) *store.Keyring {
	t.Helper()
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	k, err := store.NewKeyring(raw)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// DSN creates an empty database and returns its DSN; it is dropped when t
// ends.
func DSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv("CONSOLE_TEST_DB")
	if store.DialectOf(base) != store.Postgres {
		return filepath.Join(t.TempDir(), "test.db")
	}
	return newDatabase(t, "")
}

// newDatabase creates a throw-away PostgreSQL database, a copy of template
// when one is named, dropped when t ends, and returns its DSN.
func newDatabase(t testing.TB, template string) string {
	t.Helper()
	base := os.Getenv("CONSOLE_TEST_DB")
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("CONSOLE_TEST_DB is set but PostgreSQL does not answer: %v", err)
	}
	defer admin.Close(ctx)
	name := "console_test_" + randomHex(6)
	create := "CREATE DATABASE " + name
	if template != "" {
		create += " TEMPLATE " + template
	}
	if _, err := admin.Exec(ctx, create); err != nil {
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
	return withPath(base, name)
}

// Staff is a system actor for setting up fixtures.
var Staff = store.SystemActor("test")
