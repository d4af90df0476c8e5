package main

import (
	imports "github.com/sendara/console/models/imports"

	consent "github.com/sendara/console/models/consent"

	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/sendara/console/models"
	customers "github.com/sendara/console/models/customers"

	store "github.com/sendara/console/models/store"
)

// importBatch is the rows per transaction of the bulk path, as an import
// job commits them.
const importBatch = 5000

// childResult is what a child process reports on stdout.
type childResult struct {
	Seconds float64 `json:"seconds"`
	Applied int     `json:"applied"`
	Created int     `json:"created"`
	PeakMB  float64 `json:"peak_mb"`  // VmHWM: the process's peak resident memory
	StartMB float64 `json:"start_mb"` // VmHWM before the import began: package initialization
	SysMB   float64 `json:"sys_mb"`   // the Go runtime's memory from the OS at the end
}

// benchImport times N opt-out rows through the models' bulk path against
// a plain COPY of the same rows, each in a child process of its own so
// that its peak memory is its own.
func (b *bench) benchImport(ctx context.Context, t *target) error {
	n := strconv.Itoa(b.o.importRows)
	b.logf("%s: COPY of %d opt-out rows into a bare table (baseline)", t.name, b.o.importRows)
	base, err := b.child(ctx, "import-copy", "-dsn", t.dsn, "-rows", n)
	if err != nil {
		return err
	}
	if err := b.benchCSVImport(ctx, t); err != nil {
		return err
	}
	b.logf("%s: Tx.BulkOptOuts of the same rows, %d per transaction, on a fresh customer", t.name, importBatch)
	bulk, err := b.child(ctx, "import-bulk", "-dsn", t.dsn, "-rows", n)
	if err != nil {
		return err
	}
	if bulk.Applied != b.o.importRows || bulk.Created != b.o.importRows {
		b.fail("BulkOptOuts applied %d rows and created %d contacts, want %d of each", bulk.Applied, bulk.Created, b.o.importRows)
	}
	ratio := bulk.Seconds / base.Seconds
	what := fmt.Sprintf("import %s opt-out rows: Tx.BulkOptOuts, %d rows per transaction (not the CSV job)", count(b.o.importRows), importBatch)
	b.add(row{t.label(what), fmt.Sprintf("COPY into a bare table: %.1f s", base.Seconds),
		fmt.Sprintf("%.1f s (%s rows/s)", bulk.Seconds, num(int(float64(b.o.importRows)/bulk.Seconds))),
		fmt.Sprintf("%.2f×", ratio), "≤ 2.0×", yes(ratio <= 2)})
	b.add(row{t.label("import peak memory (peak RSS of the importing process)"),
		fmt.Sprintf("COPY process: %.0f MB", base.PeakMB),
		fmt.Sprintf("%.0f MB, of which %.0f MB before the first row (package init)", bulk.PeakMB, bulk.StartMB), "—", "< 200 MB", yes(bulk.PeakMB < 200)})
	return nil
}

// benchCSVImport runs console import opt-outs, the upload's code path, on a
// generated file of --csv-rows rows (its own COPY baseline of the same
// rows beside it), when that command exists.
func (b *bench) benchCSVImport(ctx context.Context, t *target) error {
	help, _ := exec.CommandContext(ctx, b.binary, "import", "opt-outs", "--help").CombinedOutput()
	// The flag list, not the usage line, says whether --customer exists.
	if !regexp.MustCompile(`(?m)^\s+-customer\b`).Match(help) {
		b.notes = append(b.notes, "The full CSV import (`console import opt-outs --customer SLUG FILE.csv`) was not measured: "+
			"this build's command does not take --customer yet (not built); the import rows measure the models' bulk path it is to call.")
		return nil
	}
	n := b.o.csvRows
	b.logf("%s: COPY of %d opt-out rows into a bare table (baseline of the CSV import)", t.name, n)
	base, err := b.child(ctx, "import-copy", "-dsn", t.dsn, "-rows", strconv.Itoa(n))
	if err != nil {
		return err
	}
	file := filepath.Join(b.dir, "opt-outs.csv")
	if err := writeOptOutCSV(file, n); err != nil {
		return err
	}
	slug := "bench-csv-" + randomHex(3)
	if _, err := b.console(ctx, t, false, "customer", "add", "--slug", slug, "--name", "Bench CSV import"); err != nil {
		return err
	}
	cust, err := t.db.CustomerBySlug(ctx, slug)
	if err != nil {
		return err
	}
	src, err := pgx.Connect(ctx, t.dsn)
	if err != nil {
		return err
	}
	defer src.Close(ctx)
	var auditFrom int64
	if err := src.QueryRow(ctx, "SELECT COALESCE(max(seq), 0) + 1 FROM audit_events").Scan(&auditFrom); err != nil {
		return err
	}
	before, err := settledInserts(ctx, src)
	if err != nil {
		return err
	}
	b.logf("%s: console import opt-outs of a %d-row CSV file", t.name, n)
	cmd := exec.CommandContext(ctx, b.binary, "import", "opt-outs", "--customer", slug, "--db", t.dsn, file)
	cmd.Env = append(os.Environ(), "CONSOLE_LOG_FORMAT=text")
	out, err := os.OpenFile(t.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	backends, err := watchBackends(ctx, t.dsn)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("console import opt-outs: %w", err)
	}
	peakOf := watchPeak(cmd.Process.Pid)
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("console import opt-outs: %w (log: %s)", err, t.log)
	}
	wall := time.Since(start)
	peak := peakOf()
	pgCPU := backends()
	jobCPU := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	after, err := settledInserts(ctx, src)
	if err != nil {
		return err
	}
	inserted := map[string]int64{}
	for table, k := range after {
		inserted[table] = k - before[table]
	}
	var job string
	if err := src.QueryRow(ctx, "SELECT id::text FROM import_jobs WHERE customer_id = $1 AND status = 'done'", cust.ID).Scan(&job); err != nil {
		return fmt.Errorf("find the finished import: %w", err)
	}
	same, sameCPU, copied, err := b.sameSchemaCopy(ctx, t, cust.ID, job, auditFrom, file, inserted)
	if err != nil {
		return fmt.Errorf("same-schema COPY baseline: %w", err)
	}
	what := fmt.Sprintf("import %s opt-out rows: console import opt-outs FILE.csv (whole job: store, check, apply)", count(n))
	ratio := wall.Seconds() / same.Seconds()
	b.add(row{t.label(what + ": import ÷ same-schema COPY"),
		fmt.Sprintf("COPY of the %s rows it wrote into a fresh database of the same schema: %.1f s", num(int(copied)), same.Seconds()),
		fmt.Sprintf("%.1f s, peak RSS %.0f MB", wall.Seconds(), peak),
		fmt.Sprintf("%.2f×", ratio), "≤ 1.5×, < 200 MB", yes(ratio <= 1.5 && peak < 200)})
	b.add(row{t.label(what + ": CPU time, import ÷ same-schema COPY (this process or the console, plus their PostgreSQL backends)"),
		fmt.Sprintf("COPY: %.1f s of CPU", sameCPU.Seconds()),
		fmt.Sprintf("%.1f s of CPU (console %.1f s, PostgreSQL %.1f s)", (jobCPU + pgCPU).Seconds(), jobCPU.Seconds(), pgCPU.Seconds()),
		fmt.Sprintf("%.2f×", (jobCPU+pgCPU).Seconds()/sameCPU.Seconds()), "— (what other load on the machine does not change)", "—"})
	bare := wall.Seconds() / base.Seconds
	b.add(row{t.label(what + ": import ÷ bare-table COPY"),
		fmt.Sprintf("COPY of the CSV's rows into a bare table: %.1f s", base.Seconds), fmt.Sprintf("%.1f s", wall.Seconds()),
		fmt.Sprintf("%.2f×", bare), "≤ 10×", yes(bare <= 10)})
	b.notes = append(b.notes, fmt.Sprintf("%s: the same-schema COPY (%.1f s) is %.1f× the bare-table COPY (%.1f s); rows the import inserted, per table: %s.",
		t.name, same.Seconds(), same.Seconds()/base.Seconds, base.Seconds, insertedList(inserted)))
	return nil
}

// insertedList formats the tables a job inserted rows into.
func insertedList(m map[string]int64) string {
	var parts []string
	for table, n := range m {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s %s", table, num(int(n))))
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// child runs this program in a child mode and reads its result.
func (b *bench) child(ctx context.Context, mode string, args ...string) (childResult, error) {
	self, err := os.Executable()
	if err != nil {
		return childResult{}, err
	}
	cmd := exec.CommandContext(ctx, self, append([]string{"child", mode}, args...)...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := cmd.Run(); err != nil {
		return childResult{}, fmt.Errorf("%s: %w", mode, err)
	}
	var res childResult
	if err := json.Unmarshal([]byte(out.String()), &res); err != nil {
		return childResult{}, fmt.Errorf("%s printed %q: %w", mode, out.String(), err)
	}
	return res, nil
}

// The peak memory of a process is its VmHWM. rusage's maxrss is no use
// for a child: Go starts children with vfork, so it reports the parent's
// size from before the exec.
func vmHWM(pid string) float64 {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// watchPeak samples another process's VmHWM (which only grows) until it
// exits; the returned function gives the last sample.
func watchPeak(pid int) func() float64 {
	var mu sync.Mutex
	peak := 0.0
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			v := vmHWM(strconv.Itoa(pid))
			if v == 0 {
				return
			}
			mu.Lock()
			peak = max(peak, v)
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return func() float64 {
		<-done
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

// childMain is the entry of the child modes.
func childMain(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "bench child: no mode")
		return 2
	}
	mode := args[0]
	fs := flag.NewFlagSet("bench child "+mode, flag.ContinueOnError)
	dsn := fs.String("dsn", "", "database")
	rows := fs.Int("rows", 0, "rows to import")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	ctx := context.Background()
	startMB := vmHWM("self")
	var (
		res childResult
		err error
	)
	switch mode {
	case "import-copy":
		res, err = importCopy(ctx, *dsn, *rows)
	case "import-bulk":
		res, err = importBulk(ctx, *dsn, *rows)
	default:
		err = fmt.Errorf("unknown mode %q", mode)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench child %s: %v\n", mode, err)
		return 1
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.SysMB = float64(ms.Sys) / (1 << 20)
	res.PeakMB, res.StartMB = vmHWM("self"), startMB
	_ = json.NewEncoder(os.Stdout).Encode(res)
	return 0
}

// optOutRow is the i-th row of the synthetic opt-out file: four phones in
// five, every fifth an email; each with its line's idempotency key, as the
// CSV job writes them.
func optOutRow(i int, base time.Time) imports.BulkOptOut {
	id := store.Identifier{Kind: store.KindPhone, Value: models.SyntheticPhone(50_000_000 + i)}
	if i%5 == 4 {
		id = store.Identifier{Kind: store.KindEmail, Value: fmt.Sprintf("opt.out.%d@example.org", i)}
	}
	return imports.BulkOptOut{Identifier: id, Channel: consent.ChannelAll, Evidence: fmt.Sprintf("opt-outs.csv line %d", i+2),
		OccurredAt: base.Add(-time.Duration(i) * time.Second), IdempotencyKey: fmt.Sprintf("bench:%d", i+2)}
}

var rowsBase = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// importCopy is the baseline: one COPY of the rows into a bare table with
// the unique indexes the real tables hold on them (identifier and
// idempotency key per customer).
func importCopy(ctx context.Context, dsn string, n int) (childResult, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return childResult{}, err
	}
	defer conn.Close(ctx)
	table := "bench_copy_" + randomHex(3)
	if _, err := conn.Exec(ctx, `CREATE TABLE `+table+` (customer_id UUID NOT NULL, identifier TEXT NOT NULL, kind TEXT NOT NULL,
		channel TEXT NOT NULL, evidence TEXT NOT NULL, occurred_at TIMESTAMPTZ NOT NULL, idempotency_key TEXT NOT NULL);
		CREATE UNIQUE INDEX ON `+table+` (customer_id, identifier);
		CREATE UNIQUE INDEX ON `+table+` (customer_id, idempotency_key)`); err != nil {
		return childResult{}, fmt.Errorf("create bare table: %w", err)
	}
	defer conn.Exec(context.Background(), "DROP TABLE "+table) // best effort: the database is dropped at the end anyway
	customer := uuid.Must(uuid.NewV7())
	start := time.Now()
	i := 0
	copied, err := conn.CopyFrom(ctx, pgx.Identifier{table},
		[]string{"customer_id", "identifier", "kind", "channel", "evidence", "occurred_at", "idempotency_key"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == n {
				return nil, nil
			}
			r := optOutRow(i, rowsBase)
			i++
			return []any{customer, r.Identifier.Value, r.Identifier.Kind, r.Channel, r.Evidence, r.OccurredAt, r.IdempotencyKey}, nil
		}))
	if err != nil {
		return childResult{}, fmt.Errorf("copy: %w", err)
	}
	return childResult{Seconds: time.Since(start).Seconds(), Applied: int(copied)}, nil
}

// importBulk applies the rows through Tx.BulkOptOuts on a fresh customer,
// importBatch rows per audited transaction, generating each batch as it
// goes (as the CSV job reads its file).
func importBulk(ctx context.Context, dsn string, n int) (childResult, error) {
	db, err := models.Open(dsn)
	if err != nil {
		return childResult{}, err
	}
	defer db.Close()
	actor := store.SystemActor("bench import")
	c, err := db.CreateCustomer(ctx, actor, customers.CustomerInput{Slug: "bench-import-" + randomHex(3), Name: "Bench import"})
	if err != nil {
		return childResult{}, err
	}
	var res childResult
	start := time.Now()
	rows := make([]imports.BulkOptOut, 0, importBatch)
	for from := 0; from < n; from += importBatch {
		rows = rows[:0]
		for i := from; i < min(n, from+importBatch); i++ {
			rows = append(rows, optOutRow(i, rowsBase))
		}
		err := db.Tx(ctx, actor, func(tx *store.Tx) error {
			r, err := imports.BulkOptOuts(tx, c.ID, "csv_import", rows)
			if err != nil {
				return err
			}
			res.Applied += r.Applied
			res.Created += r.ContactsCreated
			tx.Audit(store.Audit{Action: "import.batch", ObjectType: "customer", ObjectID: c.ID, CustomerID: c.ID,
				Details: map[string]any{"rows": len(rows), "applied": r.Applied, "unchanged": r.Unchanged}})
			return nil
		})
		if err != nil {
			return res, fmt.Errorf("batch at row %d: %w", from, err)
		}
		if done := from + len(rows); (from/importBatch)%20 == 19 || done == n {
			fmt.Fprintf(os.Stderr, "bench import: %d/%d rows after %s\n", done, n, time.Since(start).Round(time.Second))
		}
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// writeOptOutCSV writes the same rows as a CSV file a customer would upload.
func writeOptOutCSV(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "Phone,Email,Channel,Opted out at")
	for i := range n {
		r := optOutRow(i, rowsBase)
		phone, email := r.Identifier.Value, ""
		if r.Identifier.Kind == store.KindEmail {
			phone, email = "", r.Identifier.Value
		}
		fmt.Fprintf(w, "%s,%s,all,%s\n", phone, email, r.OccurredAt.Format(time.RFC3339))
	}
	return errors.Join(w.Flush(), f.Close())
}

// watchBackends samples the CPU time of the PostgreSQL backends that
// connect to dsn's database after it is called (the job's), until the
// returned function is called; that gives their CPU time in all. A
// backend's last sample is at most 100 ms before it ended.
func watchBackends(ctx context.Context, dsn string) (func() time.Duration, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	pids := func() []int {
		var out []int
		rows, err := conn.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
		if err != nil {
			return nil
		}
		for rows.Next() {
			var p int
			if rows.Scan(&p) == nil {
				out = append(out, p)
			}
		}
		rows.Close()
		return out
	}
	before := map[int]bool{}
	for _, p := range pids() {
		before[p] = true
	}
	seen := map[int]time.Duration{}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		defer conn.Close(context.Background())
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			for _, p := range pids() {
				if !before[p] {
					seen[p] = max(seen[p], procCPU(p))
				}
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return func() time.Duration {
		close(stop)
		<-done
		var sum time.Duration
		for _, d := range seen {
			sum += d
		}
		return sum
	}, nil
}
