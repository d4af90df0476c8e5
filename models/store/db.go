// Package store is the console's database: opening it (SQLite or
// PostgreSQL, chosen by the DSN), the embedded migrations, transactions (Tx
// carries the actor and the audit entries written with the commit, and an
// after-commit hook), actors and their reach (tenant scoping fails closed),
// the tamper-evident audit log (append with group commit, query, verify,
// export, checkpoints), the keyring that seals secrets, settings, throttles,
// idempotency keys, identifiers checked with a field name, and a request's
// timeline. It is the only package that begins transactions; the domain
// packages build on it and it imports none of them.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/glebarez/sqlite"
	calendar "github.com/sendara/console/models/calendar"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialect names the SQL dialect a DSN selects.
type Dialect string

const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// DialectOf picks the database from the DSN: a postgres:// or postgresql://
// URL is PostgreSQL, anything else is a SQLite file path.
func DialectOf(dsn string) Dialect {
	lower := strings.ToLower(dsn)
	if strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://") {
		return Postgres
	}
	return SQLite
}

// insertRows is how many rows one INSERT of a slice carries: gorm splits
// every Create of a slice into statements of this many rows. SQLite's
// driver finds each of a statement's parameters by a scan of all its
// arguments, so binding n parameters costs n²: at 500 rows of ten columns
// binding took more CPU than writing (a 100k-row import of phones and
// emails took 35 s at 500 rows, 22 s at 100, no less at 50). PostgreSQL
// binds in linear time and gains from fewer round trips.
func (d Dialect) insertRows() int {
	if d == SQLite {
		return 100
	}
	return 500
}

// DB is the console's database handle: the gorm connection and its dialect.
type DB struct {
	Gorm    *gorm.DB
	Dialect Dialect

	// Keys seal the secrets the database holds (UseKeyring).
	Keys *Keyring

	// StatusLink makes the URL of a requester's status page from its
	// token (UseStatusLinks); nil leaves mails without one.
	StatusLink func(token string) string

	// file is the SQLite database's path ("" on PostgreSQL): readiness
	// looks at the room left on its disk.
	file string

	// afterCommit runs after each committed write (OnCommit).
	afterCommit atomic.Pointer[func(context.Context)]

	// records batches concurrent Record calls into shared transactions.
	records recordBatch

	// region and business are settled at Open (open_options.go).
	region   string
	business calendar.Business
}

// Now is the clock every model uses. Times are UTC with microsecond
// precision, the finest both databases store, so a value read back equals
// the value written (the audit chain hashes them).
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// Open connects to the database named by dsn. SQLite runs with WAL, foreign
// keys, a busy timeout, immediate transactions and a single connection: one
// writer, so concurrent requests queue instead of failing with SQLITE_BUSY.
// opts settle the default phone region and the business calendar
// (WithRegion, WithBusiness).
func Open(dsn string, opts ...Option) (*DB, error) {
	d := DialectOf(dsn)
	cfg := &gorm.Config{
		Logger:          logger.Discard,
		NowFunc:         Now,
		TranslateError:  true,
		CreateBatchSize: d.insertRows(),
	}
	var (
		g   *gorm.DB
		err error
	)
	switch d {
	case Postgres:
		g, err = gorm.Open(postgres.Open(dsn), cfg)
	default:
		g, err = gorm.Open(sqlite.Open(sqliteDSN(dsn)), cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", d, err)
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", d, err)
	}
	if d == SQLite {
		sqlDB.SetMaxOpenConns(1)
	} else {
		sqlDB.SetMaxOpenConns(32)
		sqlDB.SetMaxIdleConns(32)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	db := &DB{Gorm: g, Dialect: d, region: "US", business: calendar.DefaultBusiness()}
	for _, o := range opts {
		o(db)
	}
	if d == SQLite {
		db.file, _, _ = strings.Cut(dsn, "?")
		if db.file == "" {
			db.file = "console.db"
		}
	}
	return db, nil
}

func sqliteDSN(path string) string {
	if path == "" {
		path = "console.db"
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	return path + sep + q.Encode()
}

// SQL returns the underlying database/sql handle.
func (db *DB) SQL() *sql.DB {
	s, _ := db.Gorm.DB()
	return s
}

// Close closes the connection pool.
func (db *DB) Close() error { return db.SQL().Close() }

// Ping checks that the database answers within the context's deadline.
func (db *DB) Ping(ctx context.Context) error {
	return db.SQL().PingContext(ctx)
}

// ErrNotFound is returned for an absent object and equally for another
// tenant's object, so a caller cannot learn that the latter exists.
var ErrNotFound = errors.New("not found")

// NotFound maps gorm's not-found error to ErrNotFound.
func NotFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	return err
}
