package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	imports "github.com/sendara/console/models/imports"
)

// The same-schema baseline of the CSV import (DESIGN §7): after the job,
// every row it wrote is copied out with COPY … TO STDOUT, a fresh database
// is migrated to the same schema (same indexes, foreign keys and
// triggers), and COPY … FROM STDIN of those rows into it, in one
// transaction, is timed. What the import did beyond writing those rows
// (parsing, deciding, looking up, updating its job row per batch) is the
// difference.

// copySpec is one table of the baseline: the rows the import wrote to it.
type copySpec struct {
	table string
	where string // selects the import's rows; %[1]s is the customer id, %[2]s the job id, %[3]d the first audit seq
}

// importWrites are the tables the import writes, in an order their foreign
// keys accept. suppression_changes is not among them: the triggers of
// consent_states and contact_identifiers write those rows in the fresh
// database too, as they did during the import (COPY fires them).
// import_chunks, the stored file, is deleted when the job finishes; it is
// copied from the CSV file, in the chunks the upload stored.
var importWrites = []copySpec{
	{"import_jobs", "customer_id = '%[1]s'"},
	{"contacts", "customer_id = '%[1]s'"},
	{"contact_identifiers", "customer_id = '%[1]s'"},
	{"consent_events", "customer_id = '%[1]s'"},
	{"consent_states", "customer_id = '%[1]s'"},
	{"webhook_events", "customer_id = '%[1]s'"},
	{"webhook_deliveries", "customer_id = '%[1]s'"},
	{"import_bad_rows", "job_id = '%[2]s'"},
	{"audit_events", "seq >= %[3]d ORDER BY seq"}, // the chain's trigger takes entries in order only
}

// derivedWrites are tables whose rows the import wrote through triggers
// of the copied tables, so the baseline's COPY writes them as well.
var derivedWrites = map[string]bool{"suppression_changes": true}

// settledInserts is tableInserts once it has stopped changing: a backend
// reports its counts when it ends, a moment after its client has exited,
// so a read right after the job may miss the last batches' rows. It waits
// for three equal reads 250 ms apart, at most 15 s.
func settledInserts(ctx context.Context, conn *pgx.Conn) (map[string]int64, error) {
	last, err := tableInserts(ctx, conn)
	if err != nil {
		return nil, err
	}
	for same, deadline := 0, time.Now().Add(15*time.Second); same < 2 && time.Now().Before(deadline); {
		time.Sleep(250 * time.Millisecond)
		now, err := tableInserts(ctx, conn)
		if err != nil {
			return nil, err
		}
		if maps.Equal(now, last) {
			same++
		} else {
			same = 0
		}
		last = now
	}
	return last, nil
}

// tableInserts is pg_stat_user_tables' count of inserted rows per table of
// the database: its growth over the job says which tables the job wrote.
func tableInserts(ctx context.Context, conn *pgx.Conn) (map[string]int64, error) {
	if _, err := conn.Exec(ctx, "SELECT pg_stat_clear_snapshot()"); err != nil {
		return nil, err
	}
	rows, err := conn.Query(ctx, `SELECT relname, n_tup_ins FROM pg_stat_user_tables WHERE schemaname = 'public'`)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			return nil, err
		}
		out[name] = n
	}
	return out, rows.Err()
}

// sameSchemaCopy builds and times the baseline for the job on t: the rows
// of customer (and of job, and audit entries from auditFrom on), and the
// file's chunks. inserted is what pg_stat_user_tables says the job
// inserted per table; a table written but not in the baseline fails the
// run. It returns the COPY's time and the rows copied.
func (b *bench) sameSchemaCopy(ctx context.Context, t *target, customer, job string, auditFrom int64, file string, inserted map[string]int64) (wall, cpu time.Duration, rows int64, err error) {
	src, err := pgx.Connect(ctx, t.dsn)
	if err != nil {
		return 0, 0, 0, err
	}
	defer src.Close(ctx)
	covered := map[string]bool{"import_chunks": true}
	for _, s := range importWrites {
		covered[s.table] = true
	}
	for table, n := range inserted {
		if n > 0 && !covered[table] && !derivedWrites[table] {
			b.fail("the CSV import wrote %d rows to %s, which the same-schema COPY baseline does not copy", n, table)
		}
	}

	// Copy out, in COPY's binary format, one file per table.
	dir, err := os.MkdirTemp(b.dir, "same-schema-")
	if err != nil {
		return 0, 0, 0, err
	}
	defer os.RemoveAll(dir)
	out := func(table, query string) (string, int64, error) {
		path := filepath.Join(dir, table+".copy")
		f, err := os.Create(path)
		if err != nil {
			return "", 0, err
		}
		w := bufio.NewWriterSize(f, 1<<20)
		tag, err := src.PgConn().CopyTo(ctx, w, "COPY ("+query+") TO STDOUT (FORMAT binary)")
		if err = errors.Join(err, w.Flush(), f.Close()); err != nil {
			return "", 0, fmt.Errorf("copy out %s: %w", table, err)
		}
		return path, tag.RowsAffected(), nil
	}
	type part struct {
		table, path string
		rows        int64
	}
	var parts []part
	var total int64
	for _, s := range importWrites {
		path, n, err := out(s.table, fmt.Sprintf("SELECT * FROM %s WHERE ", s.table)+fmt.Sprintf(s.where, customer, job, auditFrom))
		if err != nil {
			return 0, 0, 0, err
		}
		if want := inserted[s.table]; s.table != "import_jobs" && s.table != "audit_events" && n != want {
			// Rows the job inserted and no longer holds (or others') would make the baseline wrong.
			b.fail("same-schema COPY baseline: %s holds %d of the import's rows, but %d were inserted during it", s.table, n, want)
		}
		parts = append(parts, part{s.table, path, n})
		total += n
	}
	// What must be there before: the customer, and the audit chain up to the job.
	customerRows, _, err := out("customers", fmt.Sprintf("SELECT * FROM customers WHERE id = '%s'", customer))
	if err != nil {
		return 0, 0, 0, err
	}
	chainRows, _, err := out("audit_prefix", fmt.Sprintf("SELECT * FROM audit_events WHERE seq < %d ORDER BY seq", auditFrom))
	if err != nil {
		return 0, 0, 0, err
	}

	// A fresh database, migrated by the console itself.
	fresh, err := b.freshDatabase(ctx)
	if err != nil {
		return 0, 0, 0, err
	}
	dst, err := pgx.Connect(ctx, fresh)
	if err != nil {
		return 0, 0, 0, err
	}
	defer dst.Close(ctx)
	in := func(table, path string) error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := dst.PgConn().CopyFrom(ctx, bufio.NewReaderSize(f, 1<<20), "COPY "+table+" FROM STDIN (FORMAT binary)"); err != nil {
			return fmt.Errorf("copy into %s: %w", table, err)
		}
		return nil
	}
	if err := errors.Join(in("customers", customerRows), in("audit_events", chainRows)); err != nil {
		return 0, 0, 0, err
	}
	if _, err := dst.Exec(ctx, "CHECKPOINT"); err != nil {
		return 0, 0, 0, err
	}

	b.logf("%s: COPY of the %d rows the import wrote (and its stored file) into a fresh database of the same schema (baseline)", t.name, total)
	start, cpu0, self0 := time.Now(), procCPU(int(dst.PgConn().PID())), procCPU(os.Getpid())
	tx, err := dst.Begin(ctx)
	if err != nil {
		return 0, 0, 0, err
	}
	defer tx.Rollback(context.Background())
	var took []string
	for _, p := range parts {
		at := time.Now()
		if err := in(p.table, p.path); err != nil {
			return 0, 0, 0, err
		}
		if p.rows > 0 {
			took = append(took, fmt.Sprintf("%s %s rows %.1f s", p.table, num(int(p.rows)), time.Since(at).Seconds()))
		}
		if p.table == "import_jobs" {
			// The stored file, in the pieces the upload stored.
			n, err := copyChunks(ctx, tx, job, file)
			if err != nil {
				return 0, 0, 0, err
			}
			total += n
		}
	}
	at := time.Now()
	if err := tx.Commit(ctx); err != nil {
		return 0, 0, 0, err
	}
	wall = time.Since(start)
	cpu = procCPU(int(dst.PgConn().PID())) - cpu0 + procCPU(os.Getpid()) - self0
	took = append(took, fmt.Sprintf("commit %.1f s", time.Since(at).Seconds()))
	b.notes = append(b.notes, fmt.Sprintf("%s: the same-schema COPY, table by table (triggers and foreign-key checks included): %s.", t.name, strings.Join(took, ", ")))
	return wall, cpu, total, nil
}

// copyChunks COPYs file into import_chunks as the upload stored it.
func copyChunks(ctx context.Context, tx pgx.Tx, job, file string) (int64, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, imports.ImportChunkSize)
	n := 0
	return tx.CopyFrom(ctx, pgx.Identifier{"import_chunks"}, []string{"job_id", "n", "data"},
		pgx.CopyFromFunc(func() ([]any, error) {
			k, err := io.ReadFull(f, buf)
			if k == 0 {
				if errors.Is(err, io.EOF) {
					return nil, nil
				}
				return nil, err
			}
			n++
			return []any{job, n - 1, buf[:k]}, nil
		}))
}

// freshDatabase creates an empty database on the bench's server, dropped
// at the end, and migrates it with console migrate.
func (b *bench) freshDatabase(ctx context.Context) (string, error) {
	admin, err := pgx.Connect(ctx, b.o.pgURL)
	if err != nil {
		return "", err
	}
	defer admin.Close(ctx)
	name := "console_bench_" + randomHex(4) + "_copy"
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create database: %w", err)
	}
	b.cleanups = append(b.cleanups, func() {
		if b.o.keep {
			fmt.Fprintf(os.Stderr, "bench: kept database %s\n", name)
			return
		}
		c, err := pgx.Connect(context.Background(), b.o.pgURL)
		if err == nil {
			defer c.Close(context.Background())
			_, err = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: drop database %s: %v\n", name, err)
		}
	})
	u, err := url.Parse(b.o.pgURL)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	dsn := u.String()
	if _, err := b.console(ctx, &target{name: "PostgreSQL (same-schema copy)", dialect: "postgres", dsn: dsn,
		log: filepath.Join(b.dir, "postgres-copy.log")}, false, "migrate"); err != nil {
		return "", fmt.Errorf("console migrate of the baseline's database: %w", err)
	}
	return dsn, nil
}
